"""Exception types for problems a user can fix (config, data, certificates, budget)."""


class PrivflError(Exception):
    """Base class: the message says what is wrong and what to change."""


class ConfigError(PrivflError):
    """A configuration value is missing, of the wrong type or out of range."""
