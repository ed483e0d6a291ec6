"""Errors that end a run cleanly."""

from conf.errors import PrivflError


class RunStoppedError(PrivflError):
    """The run cannot go on: it stops cleanly, keeping every completed round."""


class TooFewSitesError(RunStoppedError):
    """Fewer usable sites remain than ``min_sites``: the run stops cleanly."""


class SiteLevelBudgetError(RunStoppedError):
    """The next round's release would exceed the run's site-level ε."""
