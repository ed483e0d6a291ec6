"""The privfl ServerApp: what the coordinator runs (simulation and deployment alike)."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import torch
from flwr.app import ArrayRecord, ConfigRecord, Context
from flwr.serverapp import Grid, ServerApp

from conf.run_config import from_run_config
from conf.schema import ExperimentConfig
from server.attributed_grid import AttributedGrid
from server.errors import RunStoppedError
from server.outputs import RunOutputs
from server.preflight import preflight
from server.privacy_summary import privacy_summary
from server.report.write import write_report_safely
from server.roster import SiteRoster
from server.round_reporter import RoundReporter
from server.secure_aggregation import SecureAggregationGrid
from server.strategies.registry import build_strategy
from server.strategies.site_guard import SiteGuard
from server.strategies.site_level_dp import SiteLevelDP
from server.summary import summary_text
from server.synthetic_pool import SyntheticPool, collect_synthetic
from server.tracking import open_tracker
from server.traffic import TrafficCountingGrid
from server.warm_start import WarmStart, warm_start
from tasks.registry import get_task

log = logging.getLogger("privfl")

app = ServerApp()

TRACKED_FILES = ("model.pt", "summary.txt", "privacy.json", "outcome.json", "report.html",
                 "report.md")
"""Run files stored as W&B artifacts, each if it exists when the run ends."""


@app.main()
def main(grid: Grid, context: Context) -> None:
    """Preflight the sites, pool their synthetic tables (``synthetic.publish``) and
    warm-start the model on them (``synthetic.warm_start``), run the strategy's rounds,
    write the run's outputs."""
    started = time.monotonic()
    grid = AttributedGrid(grid)  # type: ignore[assignment]
    cfg = from_run_config(context.run_config)
    outputs = RunOutputs(Path(cfg.output_dir))
    task = get_task(cfg.task)
    torch.manual_seed(cfg.seed)
    model = task.build_model()
    test_set = task.read_dataset(cfg.server_test_data) if cfg.server_test_data else None

    tracker = open_tracker(cfg)  # W&B starts while the sites answer the preflight
    roster = SiteRoster()
    refusals = preflight(grid, roster, cfg.sites, cfg.strategy.round_timeout)
    preflight_done = rounds_start = time.monotonic()
    site_dp = SiteLevelDP.around(cfg) if cfg.privacy.site_level else None
    guard = SiteGuard(site_dp or build_strategy(cfg), roster, cfg.min_sites,
                      cfg.strategy.round_timeout, secure=cfg.secure)
    traffic = TrafficCountingGrid(grid)
    reporter = RoundReporter(cfg, task, test_set, guard, outputs, site_dp, traffic, tracker,
                             last_state=model.state_dict())
    outcome: dict[str, Any] = {"status": "finished", "reason": None}
    synthetic: SyntheticPool | None = None
    warm: WarmStart | None = None
    try:
        if cfg.synthetic.publish:
            synthetic = collect_synthetic(grid, roster, cfg, task, outputs)
            if cfg.synthetic.warm_start:
                warm = warm_start(model, task, synthetic.table, cfg, test_set)
                row = warm.metrics_row(cfg)
                outputs.append_metrics(row)
                tracker.log_round(row)
                reporter.last_state = model.state_dict()
        rounds_start = time.monotonic()
        guard.start(
            SecureAggregationGrid(traffic, cfg) if cfg.secure else traffic,
            ArrayRecord(model.state_dict()),
            num_rounds=cfg.rounds,
            timeout=cfg.strategy.round_timeout,
            train_config=ConfigRecord(),
            evaluate_fn=reporter,
        )
    except RunStoppedError as stop:
        log.warning("stopping: %s", stop)
        outcome = {"status": "stopped", "reason": str(stop)}
    except Exception as err:
        outcome = {"status": "failed", "reason": f"{type(err).__name__}: {err}"}
        raise
    finally:
        outcome["run_id"] = str(context.run_id)  # names this run's charges in the ledgers
        timing = {
            "preflight_seconds": preflight_done - started,
            "synthetic_seconds": synthetic.seconds if synthetic else None,
            "warm_start_seconds": warm.seconds if warm else None,
            "rounds_seconds": time.monotonic() - rounds_start,
            "round_seconds": [row["round_seconds"] for row in reporter.rows],
        }
        try:
            _write_outputs(cfg, outputs, reporter, roster, site_dp, refusals, outcome, timing,
                           synthetic, warm)
        finally:
            tracker.finish(outcome, [outputs.root / name for name in TRACKED_FILES])


def _write_outputs(cfg: ExperimentConfig, outputs: RunOutputs, reporter: RoundReporter,
                   roster: SiteRoster, site_dp: SiteLevelDP | None, refusals: list[dict],
                   outcome: dict[str, Any], timing: dict[str, Any],
                   synthetic: SyntheticPool | None, warm: WarmStart | None) -> None:
    """The final model, outcome, timing, privacy record, summary and report (also when
    failing)."""
    outcome["rounds_completed"] = len(reporter.rows)
    outputs.save_model("model.pt", reporter.last_state)
    outputs.write_json("outcome.json", outcome)
    outputs.write_json("timing.json", timing)
    outputs.write_json("privacy.json", {**privacy_summary(cfg, roster, site_dp, synthetic,
                                                          warm),
                                        "preflight": refusals})
    text = summary_text(cfg, reporter.rows, roster, site_dp, outcome, timing, synthetic, warm)
    outputs.write_text("summary.txt", text)
    print(text, end="", flush=True)
    write_report_safely(outputs.root)
