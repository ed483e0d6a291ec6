"""Start a tracker in the background, so that importing and starting W&B (1-3 s on a
2-core machine) overlaps the sites' preflight instead of adding to the run's wall time."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from server.tracking.base import NoTracker, Tracker


class BackgroundStart:
    """A tracker whose start runs in a thread; each call first waits for that start."""

    def __init__(self, start: Callable[[], Tracker]) -> None:
        self._tracker: Tracker = NoTracker()
        self._thread = threading.Thread(target=self._start, args=(start,), daemon=True,
                                        name="privfl-tracking-start")
        self._thread.start()

    def _start(self, start: Callable[[], Tracker]) -> None:
        self._tracker = start()  # never raises: a failed start gives a NoTracker

    def ready(self) -> Tracker:
        """The started tracker (waits for the start, itself bounded by W&B's timeout)."""
        self._thread.join()
        return self._tracker

    def log_round(self, row: dict[str, Any]) -> None:
        self.ready().log_round(row)

    def finish(self, outcome: dict[str, Any], files: Sequence[Path]) -> None:
        self.ready().finish(outcome, files)
