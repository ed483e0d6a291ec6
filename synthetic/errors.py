"""Exception types for problems in ``privfl synth``'s input that the user can fix."""

from conf.errors import PrivflError


class SynthDataError(PrivflError):
    """The table or its metadata is missing, unreadable, empty, too small, or they
    do not match each other or the declared columns."""
