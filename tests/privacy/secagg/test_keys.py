"""privacy.secagg.keys: X25519 agreement, HKDF derivation, the canonical field encoding."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from privacy.secagg.errors import SecAggError
from privacy.secagg.keys import (
    PAIRWISE_MASK,
    SALT,
    SHARE_ENCRYPTION,
    KeyPair,
    agree,
    derive_key,
    encode_fields,
)

# RFC 7748 §6.1
_ALICE_PRIVATE = bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
_ALICE_PUBLIC = bytes.fromhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
_BOB_PRIVATE = bytes.fromhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
_BOB_PUBLIC = bytes.fromhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
_SHARED = bytes.fromhex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742")

# u-coordinates of small order (and non-canonical encodings of them): each gives an all-zero
# shared secret whatever the private key.
_LOW_ORDER = [
    bytes(32),
    b"\x01" + bytes(31),
    bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
    bytes.fromhex("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"),
    bytes.fromhex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    bytes.fromhex("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    bytes.fromhex("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
]


def test_agreement_matches_rfc7748() -> None:
    alice = KeyPair.from_private_bytes(_ALICE_PRIVATE)
    bob = KeyPair.from_private_bytes(_BOB_PRIVATE)
    assert alice.public_bytes == _ALICE_PUBLIC
    assert bob.public_bytes == _BOB_PUBLIC
    assert agree(alice, _BOB_PUBLIC) == _SHARED
    assert agree(bob, _ALICE_PUBLIC) == _SHARED


def test_generated_pairs_agree_and_round_trip_through_private_bytes() -> None:
    a, b = KeyPair.generate(), KeyPair.generate()
    assert len(a.public_bytes) == 32
    assert a.public_bytes != b.public_bytes
    assert agree(a, b.public_bytes) == agree(b, a.public_bytes)
    raw = a.private_bytes()
    assert len(raw) == 32
    again = KeyPair.from_private_bytes(raw)
    assert again.public_bytes == a.public_bytes
    assert agree(again, b.public_bytes) == agree(a, b.public_bytes)


@pytest.mark.parametrize("peer", _LOW_ORDER, ids=[p[:4].hex() for p in _LOW_ORDER])
def test_low_order_peer_keys_are_rejected(peer: bytes) -> None:
    with pytest.raises(SecAggError, match=f"peer public key {peer.hex()} rejected"):
        agree(KeyPair.generate(), peer)


@pytest.mark.parametrize("size", [0, 31, 33])
def test_wrong_length_keys_are_rejected(size: int) -> None:
    with pytest.raises(SecAggError, match=f"an X25519 public key is 32 bytes, got {size}"):
        agree(KeyPair.generate(), bytes(size))
    with pytest.raises(SecAggError, match=f"an X25519 private key is 32 bytes, got {size}"):
        KeyPair.from_private_bytes(bytes(size))


def _rfc5869_hkdf_sha256(ikm: bytes, salt: bytes, info: bytes, length: int) -> bytes:
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    okm, block, i = b"", b"", 1
    while len(okm) < length:
        block = hmac.new(prk, block + info + bytes([i]), hashlib.sha256).digest()
        okm, i = okm + block, i + 1
    return okm[:length]


def test_derive_key_is_hkdf_sha256_with_the_documented_salt_and_info() -> None:
    context = encode_fields("run-1", 3, 10, 20)
    info = encode_fields(PAIRWISE_MASK) + context
    assert SALT == b"privfl-secagg/hkdf-salt/v1"
    for length in (32, 80):
        assert derive_key(_SHARED, purpose=PAIRWISE_MASK, context=context, length=length) == (
            _rfc5869_hkdf_sha256(_SHARED, SALT, info, length))


def test_purposes_and_contexts_give_independent_keys() -> None:
    context = encode_fields("run-1", 3, 10, 20)
    share = derive_key(_SHARED, purpose=SHARE_ENCRYPTION, context=context)
    mask = derive_key(_SHARED, purpose=PAIRWISE_MASK, context=context)
    next_round = derive_key(_SHARED, purpose=PAIRWISE_MASK,
                            context=encode_fields("run-1", 4, 10, 20))
    assert len({share, mask, next_round}) == 3
    assert all(len(k) == 32 for k in (share, mask, next_round))
    assert derive_key(_SHARED, purpose=PAIRWISE_MASK, context=context) == mask


def test_encode_fields_layout() -> None:
    assert encode_fields("ab", 258, b"\x00\xff") == (
        b"s\x00\x00\x00\x02ab" + b"i" + (258).to_bytes(8, "big") + b"b\x00\x00\x00\x02\x00\xff")
    assert encode_fields() == b""
    assert encode_fields("ab", "c") != encode_fields("a", "bc")
    assert len({encode_fields(1), encode_fields("1"), encode_fields(b"1")}) == 3


_FIELD = st.one_of(st.text(max_size=6), st.binary(max_size=6), st.integers(0, 2**64 - 1))


@given(st.lists(_FIELD, max_size=4), st.lists(_FIELD, max_size=4))
def test_encode_fields_is_injective(a: list, b: list) -> None:
    same_sequence = [(type(x), x) for x in a] == [(type(y), y) for y in b]
    assert (encode_fields(*a) == encode_fields(*b)) == same_sequence


@pytest.mark.parametrize("field", [True, 1.0, -1, 2**64, bytearray(b"x"), None])
def test_encode_fields_rejects_other_values(field: object) -> None:
    with pytest.raises(SecAggError, match=r"cannot encode|outside"):
        encode_fields(field)  # type: ignore[arg-type]
