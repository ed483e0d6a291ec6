"""Experiment tracking: what the coordinator logs to W&B (docs/tracking.md)."""

from server.tracking.base import NoTracker, Tracker, open_tracker

__all__ = ["NoTracker", "Tracker", "open_tracker"]
