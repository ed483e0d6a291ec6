"""Warm start (``synthetic.warm_start``): train the initial global model on the pooled
synthetic table at the coordinator, before round 1.

Plain SGD with the task's own encoding, batch size and learning rate, for
``synthetic.warm_start_epochs`` epochs (shuffling seeded from the config: nothing here is
secret). With DP tables this is post-processing and costs no further privacy.

Sites publish complete tables over the declared columns (MST's domain has no missing or
undeclared cells for a task's columns), but a table comes from another party: a row the
task's declared encoding cannot take (a missing or non-numeric value, a level or class
that is not declared) is left out and counted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from conf.schema import ExperimentConfig, FeatureSpec
from server.synthetic_pool import POOLED, PROVENANCE_COLUMN
from tasks.base import Task
from tasks.training import EvalStats, evaluate, train_epochs


@dataclass
class WarmStart:
    """What the warm start did, and the global model's held-out quality before and after."""

    rows: int
    dropped: int
    epochs: int
    sites: list[str]
    before: EvalStats | None
    after: EvalStats | None
    seconds: float
    epoch_losses: list[float] = field(default_factory=list)
    skipped: str | None = None

    def metrics_row(self, cfg: ExperimentConfig) -> dict[str, Any]:
        """The round-0 row of ``metrics.jsonl`` (written only by warm-started runs)."""
        return {
            "round": 0,
            "stage": "warm_start",
            "private": cfg.private,
            "accuracy": self.after.accuracy if self.after else None,
            "loss": self.after.loss if self.after else None,
            "accuracy_before_warm_start": self.before.accuracy if self.before else None,
            "loss_before_warm_start": self.before.loss if self.before else None,
            "warm_start_rows": self.rows,
            "warm_start_rows_dropped": self.dropped,
            "warm_start_epochs": self.epochs,
            "warm_start_sites": self.sites,
            "warm_start_train_loss": self.epoch_losses,
            "warm_start_skipped": self.skipped,
            "round_seconds": self.seconds,
        }

    def summary(self) -> str:
        """One line for the run summary."""
        if self.skipped:
            return f"warm start: skipped ({self.skipped})"
        quality = ""
        if self.before is not None and self.after is not None:
            quality = (f": held-out accuracy {self.before.accuracy:.4f} -> "
                       f"{self.after.accuracy:.4f} before round 1")
        return (f"warm start: {self.epochs} epochs on {self.rows} synthetic rows from "
                f"{len(self.sites)} sites ({self.dropped} left out){quality}")


def usable_cells(column: pd.Series, spec: FeatureSpec) -> pd.Series:
    """True for each cell the declared encoding takes: a number in a numeric column, a
    declared level in a categorical one (compared as strings)."""
    if spec.type == "numeric":
        return pd.to_numeric(column, errors="coerce").notna()
    return column.notna() & column.astype(str).isin(list(spec.levels))


def usable_rows(table: pd.DataFrame, task: Task) -> tuple[pd.DataFrame, int]:
    """The rows of ``table`` the task's encoding takes (every feature cell usable, a
    declared class as label) and the number left out."""
    label = table[task.label.name]
    keep = label.notna() & label.astype(str).isin(list(task.label.classes))
    for spec in task.features:
        keep &= usable_cells(table[spec.name], spec)
    return table[keep].reset_index(drop=True), int((~keep).sum())


def warm_start(model: nn.Module, task: Task, pooled: pd.DataFrame, cfg: ExperimentConfig,
               test_set: Dataset | None) -> WarmStart:
    """Train ``model`` in place on the usable rows of ``pooled``; print one line per epoch."""
    started = time.monotonic()
    rows, dropped = usable_rows(pooled, task)
    sites = sorted(rows[PROVENANCE_COLUMN].unique()) if PROVENANCE_COLUMN in rows else []
    before = evaluate(model, test_set) if test_set is not None else None
    result = WarmStart(len(rows), dropped, cfg.synthetic.warm_start_epochs,
                       [str(s) for s in sites], before, before, 0.0)
    if rows.empty:
        result.skipped = "no usable synthetic rows were published"
        print(f"warm start: skipped, {result.skipped}", flush=True)
        result.seconds = time.monotonic() - started
        return result
    dataset = task.to_dataset(rows, source=POOLED)
    loader = DataLoader(dataset, batch_size=cfg.task.batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(cfg.seed))
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg.task.learning_rate,
                                momentum=cfg.task.momentum)
    for epoch in range(1, result.epochs + 1):
        stats = train_epochs(model, loader, optimizer, nn.CrossEntropyLoss(), 1)
        result.epoch_losses.append(stats.loss)
        result.after = evaluate(model, test_set) if test_set is not None else None
        quality = ("no held-out set" if result.after is None else
                   f"acc {result.after.accuracy:.3f} | loss {result.after.loss:.3f}")
        print(f"warm start epoch {epoch}/{result.epochs} | {quality} | train loss "
              f"{stats.loss:.3f} | {len(rows)} synthetic rows", flush=True)
    result.seconds = time.monotonic() - started
    return result
