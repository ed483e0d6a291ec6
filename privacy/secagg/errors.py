"""Exception types of secure aggregation: rejected keys, forged adverts, bad ciphertexts."""

from conf.errors import PrivflError


class SecAggError(PrivflError):
    """A secure-aggregation primitive refused its input (bad key, seed, length or range)."""


class TamperedCiphertextError(SecAggError):
    """An encrypted share failed authentication: it was altered or truncated, replayed into
    another sender/receiver/run/round/stage, or sealed under another key. Treat its sender
    as dropped."""


class ForgedKeyError(SecAggError):
    """A key advertisement's signature does not verify against the site's identity key:
    the coordinator (or someone on the path) swapped or replayed keys."""
