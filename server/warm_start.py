"""Warm start (``synthetic.warm_start``): train the initial global model on the pooled
synthetic table at the coordinator, before round 1.

Plain SGD with the task's own encoding, batch size and learning rate, for
``synthetic.warm_start_epochs`` epochs (shuffling seeded from the config: nothing here is
secret). With DP tables this is post-processing and costs no further privacy.

DP MST may sample a missing cell, or a categorical value outside the declared levels,
which the task's declared encoding cannot take. Such a feature cell is filled with a value
drawn from the same column's usable cells in the pooled table (hot-deck imputation from
the synthetic table itself, seeded: post-processing); a row whose label is not a declared
class is left out. Both are counted. Dropping every row with one unusable cell instead
would leave almost nothing at small ε (with 20 columns at ε=0.5, about 2% of the rows).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
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
    imputed: int
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
            "warm_start_cells_imputed": self.imputed,
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
                f"{len(self.sites)} sites ({self.dropped} left out, {self.imputed} cells "
                f"imputed){quality}")


def usable_cells(column: pd.Series, spec: FeatureSpec) -> pd.Series:
    """True for each cell the declared encoding takes: a number in a numeric column, a
    declared level in a categorical one (compared as strings)."""
    if spec.type == "numeric":
        return pd.to_numeric(column, errors="coerce").notna()
    return column.notna() & column.astype(str).isin(list(spec.levels))


def repaired(table: pd.DataFrame, task: Task, seed: int) -> tuple[pd.DataFrame, int, int]:
    """The rows of ``table`` the task can encode: rows with a declared label, each unusable
    feature cell drawn from the usable cells of its column. Returns (rows, rows left out,
    cells imputed); a column without any usable cell leaves no row."""
    label = table[task.label.name]
    keep = label.notna() & label.astype(str).isin(list(task.label.classes))
    rows = table[keep].reset_index(drop=True)
    rng = np.random.default_rng(seed)
    imputed = 0
    for spec in task.features:
        ok = usable_cells(rows[spec.name], spec)
        if ok.all():
            continue
        if not ok.any():
            return rows.iloc[:0], len(table), 0
        donors = rows.loc[ok, spec.name].to_numpy()
        rows.loc[~ok, spec.name] = rng.choice(donors, size=int((~ok).sum()))
        imputed += int((~ok).sum())
    return rows, len(table) - len(rows), imputed


def warm_start(model: nn.Module, task: Task, pooled: pd.DataFrame, cfg: ExperimentConfig,
               test_set: Dataset | None) -> WarmStart:
    """Train ``model`` in place on the usable rows of ``pooled``; print one line per epoch."""
    started = time.monotonic()
    rows, dropped, imputed = repaired(pooled, task, cfg.seed)
    sites = sorted(rows[PROVENANCE_COLUMN].unique()) if PROVENANCE_COLUMN in rows else []
    before = evaluate(model, test_set) if test_set is not None else None
    result = WarmStart(len(rows), dropped, imputed, cfg.synthetic.warm_start_epochs,
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
