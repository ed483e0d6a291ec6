"""Fixed-point encoding of float vectors for secure summation modulo 2**modulus_bits.

A value is clipped to [-clip, clip] and mapped linearly onto the levels 0..2**bits - 1
with stochastic rounding (rounded up with probability equal to the fractional part, the
uniforms coming from a ChaCha20 keystream under a fresh 256-bit key from the OS CSPRNG),
so decoding is unbiased: E[decode(encode(x))] =
clip(x), with an error below one step. Encodings of up to :meth:`Quantizer.max_sites`
sites add up modulo 2**modulus_bits without wrapping around, so the sum decodes exactly.

Why modulus_bits <= 62: residues are below 2**62, so adding two of them (or a residue and
``2**modulus_bits - b`` when subtracting) stays below 2**63 and never overflows, not even
as a signed int64; and the decoder can centre a sum as ``2 * total - count * max_level``
in int64. Residues therefore survive any int64 transport or tensor library unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from conf.errors import ConfigError, PrivflError
from privacy.secagg.masks import keystream, new_seed

MAX_BITS = 32
MAX_MODULUS_BITS = 62


class NonFiniteValueError(PrivflError):
    """A vector to quantise holds NaN or infinite values (training probably diverged)."""


class AggregateRangeError(PrivflError):
    """An unmasked sum is larger than ``count`` honest encodings can add up to: a site sent
    values outside the encoding's range, or masks did not cancel. Discard the round."""


@dataclass(frozen=True)
class Quantizer:
    """Clip to ±``clip``, quantise to ``bits`` bits, sum modulo 2**``modulus_bits``.

    Raises :class:`ConfigError` naming the ``secagg.*`` key when a parameter is out of
    range: ``clip`` finite and > 0, 1 <= ``bits`` <= 32, ``bits`` < ``modulus_bits`` <= 62.
    """

    clip: float
    bits: int
    modulus_bits: int

    def __post_init__(self) -> None:
        clip, bits, modulus_bits = self.clip, self.bits, self.modulus_bits
        if not (_is_number(clip) and math.isfinite(clip) and clip > 0):
            raise ConfigError(
                f"secagg.clipping_range={clip!r}: must be a finite number > 0 "
                "(each update value is clipped to ±clipping_range before quantisation)"
            )
        if not (_is_int(bits) and 1 <= bits <= MAX_BITS):
            raise ConfigError(f"secagg.quantization_bits={bits!r}: must be an integer in "
                              f"1..{MAX_BITS}")
        if not (_is_int(modulus_bits) and bits < modulus_bits <= MAX_MODULUS_BITS):
            raise ConfigError(
                f"secagg.modulus_bits={modulus_bits!r}: must be an integer above "
                f"secagg.quantization_bits ({bits}) and at most {MAX_MODULUS_BITS}"
            )

    @property
    def max_level(self) -> int:
        """The top level, 2**bits - 1: encodings lie in 0..max_level."""
        return 2**self.bits - 1

    @property
    def modulus(self) -> int:
        """2**modulus_bits: sums, masks and masked vectors are residues modulo this."""
        return 2**self.modulus_bits

    @property
    def step(self) -> float:
        """The quantisation step, 2 * clip / (2**bits - 1)."""
        return 2 * self.clip / self.max_level

    def max_sites(self) -> int:
        """How many encoded vectors can be summed without wrapping around the modulus."""
        return (self.modulus - 1) // self.max_level

    def encode(self, x: np.ndarray) -> np.ndarray:
        """``x`` clipped, scaled onto 0..max_level and stochastically rounded, as uint64 of the
        same shape. Raises :class:`NonFiniteValueError` if any value is NaN or infinite."""
        values = np.asarray(x, dtype=np.float64)
        flat = values.ravel()
        bad = flat.size - np.count_nonzero(np.isfinite(flat))
        if bad:
            raise NonFiniteValueError(
                f"cannot quantise for secure aggregation: {bad} of {flat.size} values are NaN "
                "or infinite, so this update is not sent (training probably diverged: lower "
                "the learning rate or check the data)"
            )
        scale = self.max_level / (2 * self.clip)
        scaled = (np.clip(flat, -self.clip, self.clip) + self.clip) * scale
        scaled = np.clip(scaled, 0.0, self.max_level)  # float rounding may overshoot by an ulp
        low = np.floor(scaled)
        up = _uniforms(flat.size) < scaled - low
        return (low + up).astype(np.uint64).reshape(values.shape)

    def decode_sum(self, total: np.ndarray, count: int) -> np.ndarray:
        """The float sum of ``count`` encoded vectors whose modular sum is ``total``.

        Raises :class:`ConfigError` if ``count`` exceeds :meth:`max_sites` (the sum may have
        wrapped) and :class:`AggregateRangeError` if ``total`` exceeds ``count * max_level``,
        which no ``count`` honest encodings reach.
        """
        if count < 1:
            raise ValueError(f"count must be >= 1, got {count}")
        check_capacity(self, count)
        residues = self._residues(total)
        flat = residues.ravel()
        if flat.size and int(flat.max()) > count * self.max_level:
            raise AggregateRangeError(
                f"the unmasked sum of {count} input(s) exceeds what {count} encodings can "
                "reach: a site sent out-of-range values or masks did not cancel"
            )
        centred = 2 * flat.astype(np.int64) - count * self.max_level  # |centred| < 2**62
        return (centred * (self.clip / self.max_level)).reshape(residues.shape)

    def _residues(self, a: np.ndarray) -> np.ndarray:
        array = np.asarray(a)
        if array.dtype.kind not in "iu":
            raise ValueError(f"modular arithmetic needs an integer array, got {array.dtype}")
        return array.astype(np.uint64) & np.uint64(self.modulus - 1)


def check_capacity(quantizer: Quantizer, sites: int) -> None:
    """Raise :class:`ConfigError` unless ``sites`` encodings sum without wrap-around."""
    if sites <= quantizer.max_sites():
        return
    need = (sites * quantizer.max_level).bit_length()
    remedy = (
        f"raise secagg.modulus_bits to {need}"
        if need <= MAX_MODULUS_BITS
        else f"that is above the maximum {MAX_MODULUS_BITS}, so lower secagg.quantization_bits"
    )
    raise ConfigError(
        f"secagg.modulus_bits={quantizer.modulus_bits} is too small for {sites} sites x "
        f"2^{quantizer.bits} levels; need at least {need} ({remedy})"
    )


def _uniforms(count: int) -> np.ndarray:
    """``count`` uniforms on [0, 1), 53 random bits each, from a ChaCha20 keystream under a
    fresh key from ``secrets`` (as fast as mask expansion; ``os.urandom`` is ~10x slower)."""
    words = np.frombuffer(keystream(new_seed(), 8 * count), dtype="<u8")
    return (words >> np.uint64(11)) * 2.0**-53


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
