"""Central evaluation each round, plus what follows from it: the checkpoint, the
``metrics.jsonl`` row, the tracker's copy of it and the progress line. Flower calls it
as ``evaluate_fn``, after the round's training and federated evaluation."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import torch
from flwr.app import ArrayRecord, MetricRecord
from torch.utils.data import Dataset

from conf.schema import ExperimentConfig
from server.outputs import RunOutputs
from server.strategies.site_guard import SiteGuard, left_out
from server.strategies.site_level_dp import SiteLevelDP
from server.tracking import NoTracker, Tracker
from server.traffic import Traffic, TrafficCountingGrid
from tasks.base import Task
from tasks.training import evaluate


def epsilon_label(accountant: str, delta: float, unit: str) -> str:
    """How an ε is qualified: the accountant, the δ, the unit."""
    return f"{accountant}, δ={delta:g}, unit={unit}"


def planned_epsilon_text(cfg: ExperimentConfig) -> str:
    """What the coordinator can say of the sites' record-level ε when they withhold it
    (``cfg.withholds_site_epsilon``): the plan each site calibrated its noise to."""
    return (f"ε ≤ {cfg.privacy.epsilon:g} per site for the whole run, as planned "
            f"({cfg.privacy.accountant}, δ as each site set it, unit=record; per-site spend "
            "withheld under secure aggregation)")


@dataclass
class RoundReporter:
    """``evaluate_fn`` for ``Strategy.start``."""

    cfg: ExperimentConfig
    task: Task
    test_set: Dataset | None
    guard: SiteGuard
    outputs: RunOutputs
    site_dp: SiteLevelDP | None = None
    traffic: TrafficCountingGrid | None = None
    tracker: Tracker = field(default_factory=NoTracker)
    rows: list[dict[str, Any]] = field(default_factory=list)
    last_state: dict[str, torch.Tensor] = field(default_factory=dict)
    _last: float = field(default_factory=time.monotonic)

    def __call__(self, server_round: int, arrays: ArrayRecord) -> MetricRecord:
        self.last_state = arrays.to_torch_state_dict()
        self.outputs.checkpoint(server_round, self.last_state)
        metrics = self._evaluate()
        now = time.monotonic()
        traffic = self.traffic.take() if self.traffic else None  # round 0: reset only
        if server_round > 0:
            self._record(server_round, metrics, now - self._last, traffic)
        self._last = now
        return MetricRecord({k: v for k, v in metrics.items() if v is not None})

    def _evaluate(self) -> dict[str, float | None]:
        """Accuracy and loss on the server's held-out set (None without one)."""
        if self.test_set is None:
            return {"accuracy": None, "loss": None}
        model = self.task.build_model()
        model.load_state_dict(self.last_state)
        stats = evaluate(model, self.test_set)
        return {"accuracy": stats.accuracy, "loss": stats.loss}

    def _record(self, server_round: int, metrics: dict[str, float | None], seconds: float,
                traffic: Traffic | None) -> None:
        log = self.guard.current
        reports = self.guard.roster.reports()
        top = self.guard.roster.max_run_report()
        row = {
            "round": server_round,
            "private": self.cfg.private,
            **metrics,
            "max_run_epsilon": top.run_epsilon if top else None,
            "epsilon_site": top.site if top else None,
            "epsilon_accountant": top.accountant if top else None,
            "epsilon_delta": top.delta if top else None,
            "epsilon_unit": top.unit if top else None,
            "site_run_epsilon": {r.site: r.run_epsilon for r in reports} or None,
            "planned_run_epsilon": (self.cfg.privacy.epsilon if self.cfg.withholds_site_epsilon
                                    else None),
            "site_epsilon": self.site_dp.epsilon if self.site_dp else None,
            "round_seconds": seconds,
            "sites_sampled": len(log.sampled),
            "sites_trained": len(log.trained),
            "sites_dropped": sum(f["stage"] == "train" for f in log.failed),
            "sites_refused": sum(r["stage"] == "train" for r in log.refused),
            "bytes_sent": traffic.sent if traffic else None,
            "bytes_received": traffic.received if traffic else None,
            "site_train": log.site_train or None,
            "secure_train": log.secure_train,
            "failed": log.failed,
            "refused": log.refused,
            "federated_evaluation": log.federated_evaluation,
        }
        self.rows.append(row)
        self.outputs.append_metrics(row)
        self.tracker.log_round(row)
        print(self.progress_line(row), flush=True)

    def progress_line(self, row: dict[str, Any]) -> str:
        """``round  3/10 | acc 0.842 | loss 0.512 | max ε 1.13 (rdp, ...) | 2.1 s``."""
        privacy = []
        eps = row["max_run_epsilon"]
        if eps is not None:
            label = epsilon_label(row["epsilon_accountant"], row["epsilon_delta"],
                                  row["epsilon_unit"])
            privacy.append(f"max ε {eps:.2f} ({label})")
        elif self.cfg.withholds_site_epsilon:
            privacy.append(f"ε ≤ {self.cfg.privacy.epsilon:g} planned per site "
                           f"({self.cfg.privacy.accountant}, δ per site, unit=record)")
        if self.site_dp is not None:
            plan = self.site_dp.plan
            label = epsilon_label(plan.accountant, plan.delta, "site")
            privacy.append(f"site ε {row['site_epsilon']:.2f} ({label})")
        eps_text = " | ".join(privacy) or "no DP"
        if privacy and self.cfg.reproducible:
            eps_text += " NOT PRIVATE (reproducible=true)"
        trained_not = left_out(row["failed"], row["refused"], "train")
        sites = f"{row['sites_trained']}/{row['sites_sampled']} sites"
        if trained_not:
            sites += f" ({len(trained_not)} left out)"
        evaluation = left_out(row["failed"], row["refused"], "evaluate")
        if evaluation:
            sites += f", evaluation: {len(evaluation)} failed"
        width = len(str(self.cfg.rounds))
        quality = ("no held-out set" if row["accuracy"] is None
                   else f"acc {row['accuracy']:.3f} | loss {row['loss']:.3f}")
        return (f"round {row['round']:>{width}}/{self.cfg.rounds} | {quality} | {eps_text} | "
                f"{sites} | {row['round_seconds']:.1f} s")
