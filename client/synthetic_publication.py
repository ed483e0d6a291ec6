"""A site's synthetic copy of its own training rows, published to the coordinator.

The site fits ``synthetic.synthesizer`` on the rows it trains on (its data file and the
same local split as training), over the task's declared columns and its label (public
declarations: bounds and levels never come from the data), and returns the synthetic
table plus a report. Only the table and the report leave the site.

- ``dp_mst`` is (``synthetic.epsilon``, δ)-DP for one record (ρ-zCDP, accounted in the
  site's ledger with the rdp accountant). The charge is written before fitting
  (write-ahead, round 0 of the run) and marked released just before the reply leaves;
  the run's DP-SGD was calibrated so that both compose to at most ``privacy.epsilon``.
- ``gaussian_copula`` is NOT DP: the site publishes it only with its own opt-in
  (``allow-nondp-synthetic``) and only if the release gate (exact copies, new rows,
  distances to real rows; default thresholds) passes on a held-out fifth of its rows.

The report holds no statistic computed on real rows, unless the site allows it
(``allow-synthetic-statistics``): then quality scores and gate results are added and
flagged as not covered by any ε.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from client.dp_plan import check_delta_for_rows, planned_events
from client.local_training import open_ledger
from client.site_policy import check_synthesis_allowed
from conf.errors import PrivflError
from conf.schema import ExperimentConfig, FeatureSpec
from conf.site import SiteSettings
from conf.synth_schema import ChecksConfig, GateConfig, SynthesizerConfig
from privacy.accountants import quiet_largest_alpha
from privacy.release import Release
from synthetic.dp.accounting import mst_event, mst_rho
from synthetic.dp.domain import OTHER
from synthetic.errors import SynthDataError
from synthetic.gate import failed, gate_checks
from synthetic.metadata import as_levels, declared_only
from synthetic.pipeline import MIN_HOLDOUT_ROWS
from synthetic.privacy_checks import privacy_checks
from synthetic.progress import quiet_library_loggers
from synthetic.quality import quality
from synthetic.synthesizers import SYNTHESIZERS, MstSynthesizer, SdvSynthesizer
from tasks.base import Task
from tasks.io import read_table
from tasks.partition import local_split
from tasks.registry import get_task

HOLDOUT_FRACTION = ChecksConfig().holdout_fraction
"""Share of the training rows a non-DP synthesizer is not fitted on (for the gate)."""


class SyntheticGateError(PrivflError):
    """A non-DP synthetic table failed the site's release gate: nothing was sent."""


@dataclass
class Publication:
    """The synthetic table, the site's report on it, and what to record when it leaves."""

    table: pd.DataFrame
    report: dict[str, Any]
    on_release: Callable[[], None] | None = None

    def csv(self) -> bytes:
        """The table as CSV bytes (empty cells for missing values)."""
        return self.table.to_csv(index=False).encode("utf-8")

    def released(self) -> None:
        """Call just before the reply leaves the site (marks a DP charge released)."""
        if self.on_release is not None:
            self.on_release()


def public_columns(task: Task) -> tuple[FeatureSpec, ...]:
    """The task's declared features plus its label as a categorical column."""
    label = FeatureSpec(name=task.label.name, type="categorical", levels=task.label.classes)
    return (*task.features, label)


def training_rows(cfg: ExperimentConfig, settings: SiteSettings, task: Task) -> pd.DataFrame:
    """The rows the site trains on: its file, checked as training checks it, minus the
    local test split (the same seeded split as ``client.local_data``)."""
    table = read_table(settings.data_path)
    task.to_dataset(table, source=settings.data_path)
    train_idx, _ = local_split(len(table), cfg.task.test_fraction, cfg.seed)
    return table.iloc[list(train_idx)].reset_index(drop=True)


def synthesize(cfg: ExperimentConfig, settings: SiteSettings, run_id: str) -> Publication:
    """Fit and sample the site's synthetic table; PrivflError (a refusal) if the site's
    settings, data, budget or release gate do not allow publishing it."""
    check_synthesis_allowed(cfg, settings)
    task = get_task(cfg.task)
    columns = public_columns(task)
    real = as_levels(training_rows(cfg, settings, task), columns)
    # 0: a DP table as many rows as MST's noisy counts estimate (never the exact count);
    # a non-DP table as many as the site trains on (listed as an uncovered release)
    rows = cfg.synthetic.rows or (None if cfg.synthetic.private else len(real))
    _check_rows(cfg, settings, len(real))
    timer = _Timer()
    with quiet_library_loggers():
        publish = _dp_mst if cfg.synthetic.private else _gated_copula
        return publish(cfg, settings, real, columns, rows, run_id, timer)


def _dp_mst(cfg: ExperimentConfig, settings: SiteSettings, real: pd.DataFrame,
            columns: tuple[FeatureSpec, ...], rows: int | None, run_id: str, timer: _Timer
            ) -> Publication:
    """Charge (write-ahead), fit and sample MST; the charge is marked released later."""
    syn = cfg.synthetic
    check_delta_for_rows(settings, len(real))
    with quiet_largest_alpha():
        ledger = open_ledger(cfg, settings)
        event = mst_event(run_id, syn.epsilon, settings.delta, accountant=ledger.accountant)
        release = Release.charge(
            ledger, event, planned=planned_events(cfg, settings, len(real), run_id),
            max_run_epsilon=settings.policy.max_epsilon_per_run,
            already=f"site {settings.site} already published its synthetic table for run "
                    f"{run_id}; fitting again would release a second table for one charge")
        rho = mst_rho(syn.epsilon, settings.delta)
    synthesizer = MstSynthesizer(
        # the task's encoding refuses missing values and undeclared levels: complete
        SynthesizerConfig(name="dp_mst", epsilon=syn.epsilon, bins=syn.bins, complete=True),
        columns,
        rho=rho, rows=rows, integers=[spec.name for spec in columns if spec.integer])
    with timer.step("fit_sample"):
        synthesizer.fit(real)
        table = synthesizer.sample(rows)
    with quiet_largest_alpha():
        accounting = {
            "differentially_private": True,
            "mechanism": "MST (Private-PGM), rho-zCDP",
            "epsilon": syn.epsilon,
            "delta": settings.delta,
            "accountant": ledger.accountant,
            "unit": "record",
            "rho_zcdp": rho,
            "bins": syn.bins,
            "ledger_event": {**event.to_dict()},
            "part_of_run_epsilon": True,
            "statement": (
                f"(ε={syn.epsilon:g}, δ={settings.delta:g})-DP for one record of "
                f"{settings.site} ({ledger.accountant}, unit=record), charged to the site's "
                "ledger as round 0 of this run before fitting; it is inside the site's "
                "record-level ε for this run (run_epsilon), composed with its DP-SGD rounds "
                "by the same accountant"),
            "run_epsilon_so_far": ledger.run_epsilon(run_id),
            "lifetime_epsilon": ledger.spent(),
            "budget": ledger.budget,
            "remaining": ledger.remaining(),
        }
    metadata = declared_only(columns, OTHER)
    report = _report(cfg, settings, table, columns, accounting, timer,
                     lambda: {"quality": _quality(real, table, metadata, timer)})
    return Publication(table, report, release.released)


def _gated_copula(cfg: ExperimentConfig, settings: SiteSettings, real: pd.DataFrame,
                  columns: tuple[FeatureSpec, ...], rows: int, run_id: str, timer: _Timer
                  ) -> Publication:
    """Fit a Gaussian copula on 80 % of the rows; publish only if the gate passes."""
    fit_rows, holdout = _split(real, cfg.seed)
    metadata = declared_only(columns)
    synthesizer = SdvSynthesizer(SynthesizerConfig(name="gaussian_copula"), metadata,
                                 seed=cfg.seed)
    with timer.step("fit"):
        synthesizer.fit(fit_rows)
    with timer.step("sample"):
        table = synthesizer.sample(rows)
    checks_cfg = ChecksConfig()
    privacy = privacy_checks(fit_rows, holdout, table, metadata,
                             synthetic_rows=checks_cfg.synthetic_rows,
                             max_rows=checks_cfg.max_rows, seed=cfg.seed, step=timer.step)
    checks = gate_checks(privacy, GateConfig())
    failures = failed(checks)
    if failures:
        detail = ("; ".join(check.reason for check in failures)
                  if settings.policy.allow_synthetic_statistics
                  else ", ".join(check.name for check in failures))
        raise SyntheticGateError(
            f"site {settings.site}: its {cfg.synthetic.synthesizer} table failed the release "
            f"gate ({detail}); nothing was sent")
    accounting = {
        "differentially_private": False,
        "statement": (f"NOT differentially private: {cfg.synthetic.synthesizer} fitted on "
                      f"{settings.site}'s real rows; no ε covers this table. Published with the "
                      "site's opt-in (allow-nondp-synthetic) after its release gate passed "
                      "(default thresholds)"),
        "fitted_on": f"{1 - HOLDOUT_FRACTION:.0%} of the training rows; the rest held out "
                     "for the gate's overfitting check",
    }
    report = _report(cfg, settings, table, columns, accounting, timer, lambda: {
        "quality": _quality(fit_rows, table, metadata, timer),
        "gate": [check.to_dict() for check in checks],
        "privacy_checks": {k: v for k, v in privacy.items() if k != "caps"},
    })
    return Publication(table, report)


def _report(cfg: ExperimentConfig, settings: SiteSettings, table: pd.DataFrame,
            columns: tuple[FeatureSpec, ...], accounting: dict[str, Any], timer: _Timer,
            statistics: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The site's report: what was released and how; statistics on real rows only with
    the site's opt-in, then flagged as not covered by ε."""
    report: dict[str, Any] = {
        "site": settings.site,
        "synthesizer": cfg.synthetic.synthesizer,
        "rows": len(table),
        "columns": [spec.name for spec in columns],
        "bounds_and_levels": "declared in the task config (public), never read from the data",
        "privacy": accounting,
    }
    if settings.policy.allow_synthetic_statistics:
        report["statistics"] = {
            **statistics(),
            "covered_by_epsilon": False,
            "why": (f"computed on {settings.site}'s real rows without noise; released because "
                    "the site set allow-synthetic-statistics=true"),
        }
    else:
        report["statistics"] = None
        report["statistics_withheld"] = ("no statistic computed on real rows is reported "
                                         "(the site's allow-synthetic-statistics is false)")
    report["timings_seconds"] = dict(timer.seconds)
    return report


def _quality(real: pd.DataFrame, table: pd.DataFrame, metadata: dict[str, Any],
             timer: _Timer) -> dict[str, Any]:
    try:
        return quality(real, table, metadata, step=timer.step)
    except Exception as exc:  # SDMetrics raises many types; the table is still published
        return {"score": None, "error": f"could not be computed ({type(exc).__name__})"}


def _check_rows(cfg: ExperimentConfig, settings: SiteSettings, rows: int) -> None:
    name = cfg.synthetic.synthesizer
    needed = SYNTHESIZERS[name].min_rows
    if not cfg.synthetic.private:
        needed = max(needed, int(np.ceil(MIN_HOLDOUT_ROWS / HOLDOUT_FRACTION)))
    if rows < needed:
        raise SynthDataError(
            f"site {settings.site}: {rows} training rows, but synthetic.synthesizer={name} "
            f"needs at least {needed}; the site publishes no synthetic table")


def _split(table: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows to fit on and rows held out for the gate (seeded: not secret)."""
    order = np.random.default_rng(seed).permutation(len(table))
    held = round(len(table) * HOLDOUT_FRACTION)
    return (table.iloc[np.sort(order[held:])].reset_index(drop=True),
            table.iloc[np.sort(order[:held])].reset_index(drop=True))


class _Timer:
    """Wall seconds of each step (a ``step(key, what)`` callable for the checks)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def step(self, key: str, what: str = "") -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.seconds[key] = round(time.perf_counter() - start, 3)
