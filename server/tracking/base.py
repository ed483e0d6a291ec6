"""The tracker interface the ServerApp talks to, and how one is chosen.

A tracker sees the run through three calls: it starts with the resolved config, gets
each round's ``metrics.jsonl`` row, and finishes with the outcome and the run's files.
Tracking never stops or fails a run: a tracker that breaks logs one warning and goes
quiet (see :class:`~server.tracking.wandb_tracker.WandbTracker`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from conf.schema import ExperimentConfig


class Tracker(Protocol):
    """What the ServerApp calls; every call must return promptly and never raise."""

    def log_round(self, row: dict[str, Any]) -> None:
        """One round's ``metrics.jsonl`` row."""

    def finish(self, outcome: dict[str, Any], files: Sequence[Path]) -> None:
        """The run's outcome; ``files`` that exist are stored as artifacts."""


class NoTracker:
    """``tracking=none`` (or W&B disabled): logs nothing."""

    def log_round(self, row: dict[str, Any]) -> None:
        """Nothing to do."""

    def finish(self, outcome: dict[str, Any], files: Sequence[Path]) -> None:
        """Nothing to do."""


def open_tracker(cfg: ExperimentConfig) -> Tracker:
    """The tracker ``cfg.tracking`` asks for, starting in the background (never raises)."""
    if cfg.tracking.name == "none":
        return NoTracker()
    from server.tracking.background import BackgroundStart

    def start() -> Tracker:
        from server.tracking.wandb_tracker import WandbTracker  # wandb loads only when used

        return WandbTracker.start(cfg)

    return BackgroundStart(start)
