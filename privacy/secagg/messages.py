"""What SecAgg+ sites and the server exchange, as plain data (no Flower)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Advertisement:
    """Stage 1: a site's two public keys, signed with its identity key."""

    node: int
    site: str
    cipher_public: bytes
    mask_public: bytes
    identity_public: bytes
    signature: bytes


@dataclass(frozen=True)
class MaskedInput:
    """Stage 3: a site's masked, quantised vector and the neighbours it masked with.

    ``vector`` holds residues modulo 2**modulus_bits (1-d uint64). ``rejected`` lists
    neighbours whose share ciphertext failed authentication: the site did not mask with
    them, and the server treats them as dropped.
    """

    node: int
    vector: np.ndarray
    masked_with: tuple[int, ...]
    rejected: tuple[int, ...]


@dataclass(frozen=True)
class UnmaskRequest:
    """Stage 4: for each neighbour, which secret's share the server asks for."""

    survivors: tuple[int, ...]
    dropped: tuple[int, ...]


SELF_MASK = "self"
PAIRWISE = "pairwise"
