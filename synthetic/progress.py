"""Progress lines for long steps, and their wall times for the report."""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Iterator

LIBRARY_LOGGERS = ("sdv", "SingleTableSynthesizer", "MultiTableSynthesizer", "Metadata",
                   "SingleTableMetadata", "copulas", "rdt", "ctgan", "sdmetrics", "mbi", "jax")
"""Loggers that log data-derived values at INFO (SDV logs the whole detected metadata,
bounds and levels included): held at WARNING so that no log file receives them."""


@contextlib.contextmanager
def quiet_library_loggers() -> Iterator[None]:
    """Hold :data:`LIBRARY_LOGGERS` at WARNING for the body."""
    loggers = [logging.getLogger(name) for name in LIBRARY_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


class Progress:
    """Prints ``privfl synth: <step> ...`` and ``... done in N s``; keeps each step's time."""

    def __init__(self, *, stream=None) -> None:
        self._stream = stream
        self.timings: dict[str, float] = {}

    def say(self, message: str) -> None:
        """One progress line."""
        print(f"privfl synth: {message}", file=self._stream or sys.stdout, flush=True)

    def warn(self, message: str) -> None:
        """One warning line on stderr."""
        print(f"privfl synth: WARNING: {message}", file=sys.stderr, flush=True)

    @contextlib.contextmanager
    def step(self, key: str, what: str) -> Iterator[None]:
        """Time the body as ``timings[key]`` (seconds), announcing start and end."""
        self.say(f"{what} ...")
        start = time.perf_counter()
        yield
        seconds = time.perf_counter() - start
        self.timings[key] = round(seconds, 3)
        self.say(f"{what}: done in {seconds:.1f} s")

    def callback(self, *args: object, **kwargs: object) -> None:
        """A ``progress`` callable for libraries: prints whatever it is given."""
        parts = [str(a) for a in args] + [f"{k}={v}" for k, v in kwargs.items()]
        if parts:
            self.say("  " + " ".join(parts))
