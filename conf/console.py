"""privfl's own log lines on the console: ``privfl: LEVEL: message``, one line each."""

from __future__ import annotations

import logging


def log_to_console() -> None:
    """Send the ``privfl`` logger (failed, refusing, excluded sites...) to stderr at INFO."""
    logger = logging.getLogger("privfl")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("privfl: %(levelname)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
