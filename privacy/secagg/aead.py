"""ChaCha20-Poly1305 encryption of secret shares, bound to who sent them to whom, when.

A sealed share is ``nonce (12 random bytes from os.urandom) || ciphertext || tag (16)``.
The associated data is the canonical encoding of (sender, receiver, run, round, stage),
so a ciphertext replayed into any other context fails authentication like a tampered one.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from privacy.secagg.errors import SecAggError, TamperedCiphertextError
from privacy.secagg.keys import KEY_BYTES, encode_fields

NONCE_BYTES = 12
TAG_BYTES = 16
_DOMAIN = "privfl-secagg/sealed-share/v1"


def seal(key: bytes, plaintext: bytes, *, sender: int, receiver: int, run: str, round: int,
         stage: str) -> bytes:
    """Encrypt and authenticate ``plaintext`` under the 32-byte ``key`` for this context."""
    nonce = os.urandom(NONCE_BYTES)
    ad = _associated_data(sender, receiver, run, round, stage)
    return nonce + _cipher(key).encrypt(nonce, plaintext, ad)


def open_sealed(key: bytes, ciphertext: bytes, *, sender: int, receiver: int, run: str,
                round: int, stage: str) -> bytes:
    """The plaintext of a :func:`seal` output made for exactly this context and key.

    Raises TamperedCiphertextError when it does not authenticate: a changed or missing
    byte, another sender/receiver/run/round/stage, or another key.
    """
    ad = _associated_data(sender, receiver, run, round, stage)
    cipher = _cipher(key)
    where = f"from node {sender} to node {receiver}, run {run!r}, round {round}, stage {stage!r}"
    if len(ciphertext) < NONCE_BYTES + TAG_BYTES:
        raise TamperedCiphertextError(f"sealed share {where} is truncated "
                                      f"({len(ciphertext)} bytes)")
    try:
        return cipher.decrypt(ciphertext[:NONCE_BYTES], ciphertext[NONCE_BYTES:], ad)
    except InvalidTag as err:
        raise TamperedCiphertextError(
            f"sealed share {where} does not authenticate: tampered, replayed from another "
            "context or sealed under another key") from err


def _cipher(key: bytes) -> ChaCha20Poly1305:
    if len(key) != KEY_BYTES:
        raise SecAggError(f"a share-encryption key is {KEY_BYTES} bytes, got {len(key)}")
    return ChaCha20Poly1305(key)


def _associated_data(sender: int, receiver: int, run: str, round: int, stage: str) -> bytes:
    return encode_fields(_DOMAIN, sender, receiver, run, round, stage)
