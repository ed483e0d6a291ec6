"""Exception type for problems in a data file or table that the user can fix."""

from conf.errors import PrivflError


class DataError(PrivflError):
    """A data file or table is missing, unreadable or does not match the declared schema."""
