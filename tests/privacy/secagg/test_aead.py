"""privacy.secagg.aead: sealed shares open only in their own context, under their own key."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from privacy.secagg.aead import NONCE_BYTES, TAG_BYTES, open_sealed, seal
from privacy.secagg.errors import SecAggError, TamperedCiphertextError
from privacy.secagg.keys import encode_fields

KEY = bytes(range(32))
CONTEXT = {"sender": 3, "receiver": 7, "run": "run-1", "round": 2, "stage": "share-keys"}
SHARE = b"seed share and mask-key share"


def test_round_trip_and_layout() -> None:
    sealed = seal(KEY, SHARE, **CONTEXT)
    assert len(sealed) == NONCE_BYTES + len(SHARE) + TAG_BYTES
    assert open_sealed(KEY, sealed, **CONTEXT) == SHARE
    assert open_sealed(KEY, seal(KEY, b"", **CONTEXT), **CONTEXT) == b""


def test_associated_data_is_the_canonical_context() -> None:
    sealed = seal(KEY, SHARE, **CONTEXT)
    ad = encode_fields("privfl-secagg/sealed-share/v1", 3, 7, "run-1", 2, "share-keys")
    nonce, body = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
    assert ChaCha20Poly1305(KEY).decrypt(nonce, body, ad) == SHARE


def test_nonces_are_fresh() -> None:
    nonces = {seal(KEY, SHARE, **CONTEXT)[:NONCE_BYTES] for _ in range(50)}
    assert len(nonces) == 50


def test_every_tampered_byte_is_detected() -> None:
    sealed = seal(KEY, SHARE, **CONTEXT)
    for i in range(len(sealed)):
        tampered = bytearray(sealed)
        tampered[i] ^= 0x01
        with pytest.raises(TamperedCiphertextError, match="does not authenticate"):
            open_sealed(KEY, bytes(tampered), **CONTEXT)


def test_truncated_or_extended_ciphertexts_are_detected() -> None:
    sealed = seal(KEY, SHARE, **CONTEXT)
    for cut in range(len(sealed)):
        with pytest.raises(TamperedCiphertextError, match=r"truncated|does not authenticate"):
            open_sealed(KEY, sealed[:cut], **CONTEXT)
    with pytest.raises(TamperedCiphertextError, match="truncated"):
        open_sealed(KEY, b"", **CONTEXT)
    with pytest.raises(TamperedCiphertextError, match="does not authenticate"):
        open_sealed(KEY, sealed + b"\x00", **CONTEXT)


@pytest.mark.parametrize(("field", "value"), [
    ("sender", 4), ("receiver", 8), ("run", "run-2"), ("round", 3), ("stage", "unmask"),
])
def test_replay_into_another_context_is_detected(field: str, value: object) -> None:
    sealed = seal(KEY, SHARE, **CONTEXT)
    other = {**CONTEXT, field: value}
    with pytest.raises(TamperedCiphertextError, match=f"from node {other['sender']} to node "
                                                      f"{other['receiver']}"):
        open_sealed(KEY, sealed, **other)


def test_swapped_sender_and_receiver_is_detected() -> None:
    sealed = seal(KEY, SHARE, **CONTEXT)
    with pytest.raises(TamperedCiphertextError):
        open_sealed(KEY, sealed, **{**CONTEXT, "sender": 7, "receiver": 3})


def test_wrong_key_is_detected() -> None:
    sealed = seal(KEY, SHARE, **CONTEXT)
    with pytest.raises(TamperedCiphertextError, match="sealed under another key"):
        open_sealed(os.urandom(32), sealed, **CONTEXT)


def test_keys_must_be_32_bytes() -> None:
    with pytest.raises(SecAggError, match="share-encryption key is 32 bytes, got 16"):
        seal(bytes(16), SHARE, **CONTEXT)
    with pytest.raises(SecAggError, match="share-encryption key is 32 bytes, got 31") as info:
        open_sealed(bytes(31), seal(KEY, SHARE, **CONTEXT), **CONTEXT)
    assert not isinstance(info.value, TamperedCiphertextError)  # our bug, not the sender's
