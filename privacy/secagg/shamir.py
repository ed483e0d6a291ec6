"""Shamir secret sharing over GF(p), p = 2**521 - 1 (a Mersenne prime), for secrets of up
to 64 bytes: a site's self-mask seed and its mask private key.

A secret is the constant term of a polynomial of degree ``threshold - 1`` whose other
coefficients are drawn uniformly from GF(p) with :func:`secrets.randbelow`; share ``i`` is
the polynomial at ``x = i`` (1-based). Any ``threshold`` shares determine the secret; fewer
reveal nothing about it (every candidate secret fits them equally well).
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from conf.errors import PrivflError

PRIME = 2**521 - 1
MAX_SECRET_BYTES = 64  # 512 bits < 521: every secret is a field element
MAX_SHARES = 2**16 - 1  # share indices travel in 2 bytes
INDEX_BYTES = 2
VALUE_BYTES = (PRIME.bit_length() + 7) // 8  # 66
SHARE_BYTES = INDEX_BYTES + VALUE_BYTES  # 68


class ShareError(PrivflError):
    """A share, or a set of shares, cannot be used: malformed bytes, an index or value out of
    range, a repeated index, too few shares, or shares that do not reconstruct a secret of
    the expected length. Shares come from other sites, so treat this as a protocol fault
    (the sender misbehaved or the share set is incomplete), not as a bug."""


@dataclass(frozen=True)
class Share:
    """One point ``(index, value)`` of the sharing polynomial; ``index`` is in 1..65535."""

    index: int
    value: int

    def __post_init__(self) -> None:
        if not 1 <= self.index <= MAX_SHARES:
            raise ShareError(f"share index {self.index} is outside 1..{MAX_SHARES}")
        if not 0 <= self.value < PRIME:
            raise ShareError("share value is outside the field [0, 2**521 - 1)")

    def to_bytes(self) -> bytes:
        """Fixed width: 2-byte big-endian index, then the 66-byte big-endian value."""
        return self.index.to_bytes(INDEX_BYTES, "big") + self.value.to_bytes(VALUE_BYTES, "big")

    @classmethod
    def from_bytes(cls, data: bytes) -> Share:
        """Parse :meth:`to_bytes` output; raises :class:`ShareError` if malformed."""
        if len(data) != SHARE_BYTES:
            raise ShareError(f"a share is {SHARE_BYTES} bytes, got {len(data)}")
        return cls(
            int.from_bytes(data[:INDEX_BYTES], "big"), int.from_bytes(data[INDEX_BYTES:], "big")
        )


def split(secret: bytes, threshold: int, count: int) -> list[Share]:
    """Share ``secret`` (at most 64 bytes) as ``count`` shares with indices 1..count, any
    ``threshold`` of which reconstruct it. Raises ``ValueError`` on bad arguments."""
    if len(secret) > MAX_SECRET_BYTES:
        raise ValueError(f"a secret is at most {MAX_SECRET_BYTES} bytes, got {len(secret)}")
    if not 1 <= threshold <= count <= MAX_SHARES:
        raise ValueError(
            f"need 1 <= threshold <= count <= {MAX_SHARES}, got threshold={threshold}, "
            f"count={count}"
        )
    coefficients = [int.from_bytes(secret, "big")]
    coefficients += [secrets.randbelow(PRIME) for _ in range(threshold - 1)]
    return [Share(x, _evaluate(coefficients, x)) for x in range(1, count + 1)]


def combine(shares: Sequence[Share], threshold: int, length: int) -> bytes:
    """The ``length``-byte secret that ``shares`` reconstruct (Lagrange interpolation at 0).

    All shares are checked for repeated indices; exactly the first ``threshold`` of them,
    in the order given, are interpolated, and any further ones are ignored (not used to
    verify the result). A wrong share therefore yields a wrong secret, which is detected
    only when it does not fit in ``length`` bytes; shares should arrive authenticated.
    Raises :class:`ShareError` for fewer than ``threshold`` shares, a repeated index or a
    result longer than ``length`` bytes; ``ValueError`` for a bad ``threshold``/``length``.
    """
    if threshold < 1:
        raise ValueError(f"threshold must be >= 1, got {threshold}")
    if not 0 <= length <= MAX_SECRET_BYTES:
        raise ValueError(f"length must be in 0..{MAX_SECRET_BYTES}, got {length}")
    if len(shares) < threshold:
        raise ShareError(f"{len(shares)} share(s) given, {threshold} needed to reconstruct")
    repeated = sorted(i for i, n in Counter(share.index for share in shares).items() if n > 1)
    if repeated:
        raise ShareError(f"share index(es) {repeated} given more than once")
    used = shares[:threshold]
    secret = 0
    for i, share in enumerate(used):
        numerator = denominator = 1
        for j, other in enumerate(used):
            if j != i:
                numerator = numerator * other.index % PRIME
                denominator = denominator * (other.index - share.index) % PRIME
        secret = (secret + share.value * numerator * pow(denominator, -1, PRIME)) % PRIME
    if secret.bit_length() > 8 * length:
        raise ShareError(
            f"the shares reconstruct a value longer than {length} bytes: they are inconsistent "
            "(a wrong or corrupted share) or belong to another sharing"
        )
    return secret.to_bytes(length, "big")


def _evaluate(coefficients: Sequence[int], x: int) -> int:
    """The polynomial with ``coefficients`` (constant term first) at ``x``, mod p (Horner)."""
    result = 0
    for coefficient in reversed(coefficients):
        result = (result * x + coefficient) % PRIME
    return result
