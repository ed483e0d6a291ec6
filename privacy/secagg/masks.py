"""Masks expanded from 32-byte seeds with the ChaCha20 keystream (RFC 8439), and their
modular addition.

``cryptography``'s ``algorithms.ChaCha20(key, nonce)`` takes a 16-byte nonce: the 4-byte
little-endian initial block counter, then the 12-byte RFC 8439 nonce (checked against
RFC 8439 §2.3.2, §2.4.2, A.1 and A.2 by the tests). It refuses to run past a 32-bit
counter, as does :func:`keystream` up front.

A mask of ``length`` words takes keystream bytes ``8i .. 8i+7`` as little-endian word ``i``
(counter 0, zero nonce) and keeps its low ``modulus_bits`` bits: uniform on
[0, 2**modulus_bits) because the modulus is a power of two. Every seed must mask one
vector only; pairwise seeds are per pair *and* round (derive them with the round in the
context), self-mask seeds come from :func:`new_seed` each round.

Pairwise convention (Bonawitz et al. 2017): of two neighbours, the lower node id *adds*
their pairwise mask and the higher *subtracts* it, so the two cancel in the sum.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, algorithms

from privacy.secagg.errors import SecAggError

SEED_BYTES = 32
ZERO_NONCE = bytes(12)
_BLOCK = 64
_MAX_BLOCKS = 2**32
_CHUNK = 1 << 16
_ZEROS = memoryview(bytes(_CHUNK))


def new_seed() -> bytes:
    """A fresh 32-byte mask seed from OS entropy."""
    return secrets.token_bytes(SEED_BYTES)


def keystream(seed: bytes, nbytes: int, *, counter: int = 0, nonce: bytes = ZERO_NONCE) -> bytes:
    """``nbytes`` of the RFC 8439 ChaCha20 keystream for key ``seed`` (32 bytes), starting at
    block ``counter`` with the 12-byte ``nonce``."""
    return _encryptor(seed, nbytes, counter, nonce).update(bytes(nbytes))


def expand_mask(seed: bytes, length: int, modulus_bits: int) -> np.ndarray:
    """``length`` uint64 words from the keystream of ``seed``, reduced mod 2**modulus_bits."""
    low_bits = _low_bits(modulus_bits)
    words = _keystream_words(seed, length)
    np.bitwise_and(words, low_bits, out=words)
    return words


def pairwise_sign(own: int, peer: int) -> int:
    """+1 if node ``own`` adds its pairwise mask with ``peer`` (own < peer), else -1."""
    if own == peer:
        raise SecAggError(f"node {own} cannot share a pairwise mask with itself")
    return 1 if own < peer else -1


def add_mask(acc: np.ndarray, seed: bytes, modulus_bits: int, *, sign: int = 1) -> None:
    """In place: ``acc = (acc + sign * expand_mask(seed, len(acc), modulus_bits))`` mod
    2**modulus_bits, for a 1-d uint64 ``acc`` and ``sign`` +1 or -1.

    Adds the keystream's full 64-bit words and reduces once: the same result, since
    2**modulus_bits divides 2**64.
    """
    if acc.dtype != np.uint64 or acc.ndim != 1:
        raise SecAggError(f"masks apply to 1-d uint64 vectors, got {acc.ndim}-d {acc.dtype}")
    if sign not in (1, -1):
        raise SecAggError(f"a mask is added (+1) or subtracted (-1), not scaled by {sign}")
    low_bits = _low_bits(modulus_bits)
    words = _keystream_words(seed, len(acc))
    if sign == 1:
        np.add(acc, words, out=acc)
    else:
        np.subtract(acc, words, out=acc)
    np.bitwise_and(acc, low_bits, out=acc)


def mask_vector(values: np.ndarray, *, node: int, modulus_bits: int, self_seed: bytes,
                pairwise_seeds: Mapping[int, bytes]) -> np.ndarray:
    """Node ``node``'s masked input: ``values`` (uint64 in [0, 2**modulus_bits)) plus its self
    mask plus or minus (:func:`pairwise_sign`) the mask of each neighbour's pairwise seed,
    mod 2**modulus_bits. ``pairwise_seeds`` maps neighbour node id to seed."""
    if values.dtype != np.uint64 or values.ndim != 1 or (values & ~_low_bits(modulus_bits)).any():
        raise SecAggError(f"values must be a 1-d uint64 vector in [0, 2**{modulus_bits})")
    acc = values.copy()
    add_mask(acc, self_seed, modulus_bits)
    for peer, seed in pairwise_seeds.items():
        add_mask(acc, seed, modulus_bits, sign=pairwise_sign(node, peer))
    return acc


def _keystream_words(seed: bytes, length: int) -> np.ndarray:
    """The first ``8 * length`` keystream bytes as little-endian uint64 words (fresh array)."""
    encryptor = _encryptor(seed, 8 * length, 0, ZERO_NONCE)
    words = np.empty(length, dtype="<u8")
    out = words.view(np.uint8)
    for start in range(0, out.size, _CHUNK):
        part = out[start:start + _CHUNK]
        encryptor.update_into(_ZEROS[:part.size], part)
    return words


def _encryptor(seed: bytes, nbytes: int, counter: int, nonce: bytes) -> CipherContext:
    if len(seed) != SEED_BYTES:
        raise SecAggError(f"a mask seed is {SEED_BYTES} bytes (a 256-bit ChaCha20 key), "
                          f"got {len(seed)}")
    if len(nonce) != len(ZERO_NONCE):
        raise SecAggError(f"a ChaCha20 nonce is {len(ZERO_NONCE)} bytes, got {len(nonce)}")
    blocks = -(-nbytes // _BLOCK)
    if nbytes < 0 or counter < 0 or counter + blocks > _MAX_BLOCKS:
        raise SecAggError(f"{nbytes} keystream bytes from block {counter} do not fit the "
                          "32-bit ChaCha20 block counter")
    algorithm = algorithms.ChaCha20(seed, counter.to_bytes(4, "little") + nonce)
    return Cipher(algorithm, mode=None).encryptor()


def _low_bits(modulus_bits: int) -> np.uint64:
    if not 1 <= modulus_bits <= 64:
        raise SecAggError(f"modulus_bits must be in [1, 64], got {modulus_bits}")
    return np.uint64(2**modulus_bits - 1)
