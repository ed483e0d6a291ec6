"""What sites and the server exchange survives encoding; malformed bytes are refused."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from privacy.secagg import wire
from privacy.secagg.messages import MaskedInput, UnmaskRequest


@given(st.integers(2, 62), st.integers(0, 300), st.data())
def test_masked_inputs_round_trip_packed_to_the_modulus(modulus_bits: int, length: int,
                                                        data: st.DataObject) -> None:
    values = data.draw(st.lists(st.integers(0, 2**modulus_bits - 1), min_size=length,
                                max_size=length))
    masked = MaskedInput(7, np.array(values, dtype=np.uint64), (3, 9), (4,))
    encoded = wire.dump_masked(masked, modulus_bits)
    back = wire.load_masked(encoded)
    assert (back.node, back.masked_with, back.rejected) == (7, (3, 9), (4,))
    assert back.vector.dtype == np.uint64 and back.vector.tolist() == values
    header = int.from_bytes(encoded[:4], "big")
    assert len(encoded) - 4 - header == length * -(-modulus_bits // 8)


def test_default_modulus_packs_six_bytes_per_value() -> None:
    masked = MaskedInput(1, np.full(1000, 2**44 - 1, dtype=np.uint64), (), ())
    assert len(wire.dump_masked(masked, 44)) < 1000 * 6 + 200


@pytest.mark.parametrize("cut", [1, 6, 100])
def test_truncated_or_padded_masked_inputs_are_refused(cut: int) -> None:
    encoded = wire.dump_masked(MaskedInput(1, np.arange(50, dtype=np.uint64), (2,), ()), 32)
    with pytest.raises(ValueError):
        wire.load_masked(encoded[:-cut])
    with pytest.raises(ValueError):
        wire.load_masked(encoded + bytes(cut))


def test_sealed_shares_must_be_bytes() -> None:
    assert wire.load_sealed(wire.dump_sealed({3: b"\x00\x01"})) == {3: b"\x00\x01"}
    with pytest.raises(ValueError, match="not bytes"):
        wire.load_sealed(wire.dumps({3: 7}))


def test_requests_and_shares_round_trip() -> None:
    request = UnmaskRequest((1, 2), (5,))
    assert wire.load_request(wire.dump_request(request)) == request
    shares = {1: ("self", b"abc"), 5: ("pairwise", b"\xff")}
    assert wire.load_shares(wire.dump_shares(shares)) == shares
