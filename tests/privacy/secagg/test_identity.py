"""privacy.secagg.identity: signed key advertisements; forged, swapped or replayed ones fail."""

from __future__ import annotations

import pytest

from privacy.secagg.errors import ForgedKeyError, SecAggError
from privacy.secagg.identity import (
    SIGNATURE_BYTES,
    IdentityKey,
    advertisement_bytes,
    sign_advertisement,
    verify_advertisement,
)
from privacy.secagg.keys import KeyPair, encode_fields

# RFC 8032 §7.1, TEST 1 (empty message)
_RFC_SECRET = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
_RFC_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
_RFC_SIGNATURE = bytes.fromhex(
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555"
    "fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")

IDENTITY = IdentityKey.generate()
CIPHER, MASK = KeyPair.generate(), KeyPair.generate()
FIELDS = {"site": "hospital-a", "node": 1234567890123, "run": "run-1", "round": 4,
          "cipher_public": CIPHER.public_bytes, "mask_public": MASK.public_bytes}
SIGNATURE = sign_advertisement(IDENTITY, **FIELDS)


def test_identity_key_raw_format_matches_rfc8032() -> None:
    key = IdentityKey.from_private_bytes(_RFC_SECRET)
    assert key.public_bytes == _RFC_PUBLIC
    assert key.private_bytes() == _RFC_SECRET
    assert key.private.sign(b"") == _RFC_SIGNATURE


def test_generated_keys_round_trip_and_differ() -> None:
    again = IdentityKey.from_private_bytes(IDENTITY.private_bytes())
    assert again.public_bytes == IDENTITY.public_bytes
    assert len(IDENTITY.public_bytes) == 32
    assert IdentityKey.generate().public_bytes != IDENTITY.public_bytes
    with pytest.raises(SecAggError, match="Ed25519 private key is 32 bytes, got 31"):
        IdentityKey.from_private_bytes(bytes(31))


def test_advertisement_bytes_are_canonical() -> None:
    assert advertisement_bytes(**FIELDS) == encode_fields(
        "privfl-secagg/key-advertisement/v1", "hospital-a", 1234567890123, "run-1", 4,
        CIPHER.public_bytes, MASK.public_bytes)
    shifted = {**FIELDS, "site": "hospital-a" + "run-1"[:1], "run": "run-1"[1:]}
    assert advertisement_bytes(**shifted) != advertisement_bytes(**FIELDS)


def test_a_genuine_advertisement_verifies() -> None:
    assert len(SIGNATURE) == SIGNATURE_BYTES
    verify_advertisement(IDENTITY.public_bytes, SIGNATURE, **FIELDS)
    again = IdentityKey.from_private_bytes(IDENTITY.private_bytes())
    verify_advertisement(again.public_bytes, sign_advertisement(again, **FIELDS), **FIELDS)


_ATTACKER = KeyPair.generate().public_bytes


@pytest.mark.parametrize("changes", [
    {"cipher_public": _ATTACKER},
    {"mask_public": _ATTACKER},
    {"cipher_public": MASK.public_bytes, "mask_public": CIPHER.public_bytes},
    {"round": 5},
    {"round": 3},
    {"node": 1234567890124},
    {"run": "run-2"},
    {"site": "hospital-b"},
], ids=["swapped-cipher-key", "swapped-mask-key", "keys-exchanged", "next-round",
        "previous-round", "other-node", "other-run", "other-site"])
def test_swapped_or_replayed_advertisements_are_detected(changes: dict) -> None:
    fields = {**FIELDS, **changes}
    with pytest.raises(ForgedKeyError,
                       match=rf"site '{fields['site']}' \(node {fields['node']}\)"):
        verify_advertisement(IDENTITY.public_bytes, SIGNATURE, **fields)


def test_wrong_identity_key_is_detected() -> None:
    impostor = IdentityKey.generate()
    forged = sign_advertisement(impostor, **FIELDS)
    with pytest.raises(ForgedKeyError, match="does not verify against the site's identity key"):
        verify_advertisement(IDENTITY.public_bytes, forged, **FIELDS)


@pytest.mark.parametrize("signature", [
    SIGNATURE[:-1] + bytes([SIGNATURE[-1] ^ 1]), SIGNATURE[:-1], SIGNATURE + b"\x00", b"",
    bytes(64),
], ids=["flipped-bit", "short", "long", "empty", "zeros"])
def test_malformed_signatures_are_detected(signature: bytes) -> None:
    with pytest.raises(ForgedKeyError, match="hospital-a"):
        verify_advertisement(IDENTITY.public_bytes, signature, **FIELDS)


@pytest.mark.parametrize("public", [b"", bytes(31), bytes(33)])
def test_malformed_identity_keys_are_detected(public: bytes) -> None:
    with pytest.raises(ForgedKeyError, match="node 1234567890123"):
        verify_advertisement(public, SIGNATURE, **FIELDS)
