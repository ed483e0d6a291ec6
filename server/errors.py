"""Errors that end a run cleanly."""

from conf.errors import PrivflError


class TooFewSitesError(PrivflError):
    """Fewer usable sites remain than ``min_sites``: the run stops cleanly."""
