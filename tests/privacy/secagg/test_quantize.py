"""privacy.secagg.quantize: unbiased stochastic rounding, exact modular sums, validation."""

import math
import os

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from conf.errors import ConfigError
from privacy.secagg.quantize import (
    AggregateRangeError,
    NonFiniteValueError,
    Quantizer,
    check_capacity,
)
from tests.support.insecure_rng import forbid_insecure_rng


def _decode_each(q: Quantizer, encoded: np.ndarray) -> np.ndarray:
    return q.decode_sum(encoded, 1)


def test_parameters_and_derived_values() -> None:
    q = Quantizer(1.0, 8, 16)
    assert q.max_level == 255
    assert q.modulus == 65536
    assert q.step == pytest.approx(2 / 255)
    assert q.max_sites() == 65535 // 255 == 257
    assert Quantizer(0.5, 32, 62).max_sites() == (2**62 - 1) // (2**32 - 1)


def test_grid_points_and_clipped_values_encode_exactly() -> None:
    q = Quantizer(127.5, 8, 20)  # step 1: the grid is -127.5, -126.5, ..., 127.5
    x = np.array([-127.5, -126.5, 0.5, 126.5, 127.5, -1e9, 300.0, 127.50001])
    assert q.encode(x).tolist() == [0, 1, 128, 254, 255, 0, 255, 255]
    assert q.encode(x).dtype == np.uint64
    assert _decode_each(q, q.encode(x)).tolist() == [
        -127.5, -126.5, 0.5, 126.5, 127.5, -127.5, 127.5, 127.5
    ]


def test_stochastic_rounding_is_unbiased() -> None:
    q = Quantizer(1.0, 4, 20)  # coarse: step 2/15, so rounding matters
    x = np.array([-0.99, -0.5, -0.07, 0.0, 0.01, 0.3333, 0.71, 0.98])
    draws = 20_000
    decoded = _decode_each(q, q.encode(np.tile(x, (draws, 1))))
    assert set(np.unique(decoded - x).round(12)) != {0.0}  # rounding really is random
    # Each draw is off by less than one step, so its sd is at most step / 2.
    tolerance = 6 * (q.step / 2) / math.sqrt(draws)
    np.testing.assert_array_less(np.abs(decoded.mean(axis=0) - x), tolerance)


def test_rounds_to_one_of_the_two_neighbouring_levels_with_the_right_frequency() -> None:
    q = Quantizer(127.5, 8, 20)
    encoded = q.encode(np.full(40_000, 0.25))  # 3/4 of the way from level 127 to 128
    assert set(encoded.tolist()) == {127, 128}
    share_up = float(np.mean(encoded == 128))
    assert abs(share_up - 0.75) < 6 * math.sqrt(0.75 * 0.25 / encoded.size)


@given(
    hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=0, max_dims=3, max_side=6),
        elements=st.floats(-1e6, 1e6),
    ),
    st.floats(1e-3, 1e3),
    st.integers(1, 32),
)
def test_one_site_error_is_below_one_step(x: np.ndarray, clip: float, bits: int) -> None:
    q = Quantizer(clip, bits, 62)
    encoded = q.encode(x)
    assert encoded.shape == x.shape and encoded.dtype == np.uint64
    assert int(encoded.max(initial=0)) <= q.max_level
    error = np.abs(_decode_each(q, encoded) - np.clip(x, -clip, clip))
    assert (error <= q.step * (1 + 1e-9) + 1e-12 * clip).all()


@given(
    st.integers(1, 60),
    st.integers(0, 40),
    st.floats(1e-2, 1e2),
    st.integers(2, 24),
    st.integers(0, 2**32),
)
def test_modular_sum_decodes_to_the_float_sum(
    sites: int, length: int, clip: float, bits: int, seed: int
) -> None:
    q = Quantizer(clip, bits, 62)
    values = np.random.default_rng(seed).uniform(-1.5 * clip, 1.5 * clip, (sites, length))
    total = np.zeros(length, np.uint64)
    for vector in values:
        total = _add(q, total, q.encode(vector))
    expected = np.clip(values, -clip, clip).sum(axis=0)
    error = np.abs(q.decode_sum(total, sites) - expected)
    assert (error <= sites * q.step * (1 + 1e-9)).all()


def test_masked_sum_with_wrap_around_still_decodes() -> None:
    q = Quantizer(2.0, 16, 32)
    rows = [np.linspace(-3, 3, 101) * (i + 1) / 10 for i in range(10)]
    masks = [np.frombuffer(os.urandom(8 * 101), np.uint64) for _ in rows]
    masked = [_add(q, q.encode(r), m) for r, m in zip(rows, masks, strict=True)]
    assert all(int(m.max()) < q.modulus for m in masked)
    total = np.zeros(101, np.uint64)
    for vector in masked:
        total = _add(q, total, vector)
    for mask in masks:  # the masks cancel only modulo 2**32
        total = _add(q, total, -mask)
    expected = np.sum([np.clip(r, -2, 2) for r in rows], axis=0)
    assert np.abs(q.decode_sum(total, 10) - expected).max() <= 10 * q.step


def test_too_many_sites_wrap_and_are_refused() -> None:
    q = Quantizer(1.0, 8, 10)  # 4 sites x 255 = 1020 fits 2**10, 5 sites do not
    assert q.max_sites() == 4
    ones = q.encode(np.ones(3))
    total = np.zeros(3, np.uint64)
    for _ in range(4):
        total = _add(q, total, ones)
    assert q.decode_sum(total, 4).tolist() == [4.0, 4.0, 4.0]
    total = _add(q, total, ones)
    assert total.tolist() == [5 * 255 - 1024] * 3  # wrapped around
    with pytest.raises(ConfigError, match="too small for 5 sites x 2\\^8 levels; need at least 11"):
        q.decode_sum(total, 5)


def test_check_capacity() -> None:
    q = Quantizer(1.0, 8, 16)
    check_capacity(q, 257)
    with pytest.raises(
        ConfigError,
        match=r"secagg.modulus_bits=16 is too small for 258 sites x 2\^8 levels; "
        r"need at least 17 \(raise secagg.modulus_bits to 17\)",
    ):
        check_capacity(q, 258)
    with pytest.raises(ConfigError, match=r"need at least 64 .*lower secagg.quantization_bits"):
        check_capacity(Quantizer(1.0, 32, 62), 2**31 + 1)


def test_decode_sum_rejects_impossible_totals() -> None:
    q = Quantizer(1.0, 8, 16)
    with pytest.raises(AggregateRangeError, match="exceeds what 2 encodings can reach"):
        q.decode_sum(np.array([0, 511], np.uint64), 2)
    assert q.decode_sum(np.array([0, 510], np.uint64), 2).tolist() == [-2.0, 2.0]
    with pytest.raises(ValueError, match="count must be >= 1"):
        q.decode_sum(np.zeros(2, np.uint64), 0)


def test_decode_sum_needs_an_integer_array() -> None:
    q = Quantizer(1.0, 8, 16)
    with pytest.raises(ValueError, match="integer array"):
        q.decode_sum(np.zeros(2), 1)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_input_is_refused(bad: float) -> None:
    q = Quantizer(1.0, 8, 16)
    with pytest.raises(NonFiniteValueError, match="1 of 3 values are NaN or infinite"):
        q.encode(np.array([0.0, bad, 0.5]))


@given(
    hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=1, max_dims=2, max_side=5),
        elements=st.floats(allow_nan=True, allow_infinity=True),
    )
)
def test_encode_never_returns_garbage(x: np.ndarray) -> None:
    q = Quantizer(3.0, 12, 40)
    bad = int(np.count_nonzero(~np.isfinite(x)))
    if bad:
        with pytest.raises(NonFiniteValueError, match=f"{bad} of {x.size} values"):
            q.encode(x)
    else:
        error = np.abs(_decode_each(q, q.encode(x)) - np.clip(x, -3.0, 3.0))
        assert (error <= q.step * (1 + 1e-9)).all()


@pytest.mark.parametrize(
    ("clip", "bits", "modulus_bits", "message"),
    [
        (0.0, 8, 16, "secagg.clipping_range=0.0: must be a finite number > 0"),
        (-1.0, 8, 16, "secagg.clipping_range=-1.0"),
        (math.inf, 8, 16, "secagg.clipping_range=inf"),
        (math.nan, 8, 16, "secagg.clipping_range=nan"),
        (True, 8, 16, "secagg.clipping_range=True"),
        ("1", 8, 16, "secagg.clipping_range='1'"),
        (1.0, 0, 16, "secagg.quantization_bits=0: must be an integer in 1..32"),
        (1.0, 33, 40, "secagg.quantization_bits=33"),
        (1.0, 8.0, 16, "secagg.quantization_bits=8.0"),
        (1.0, 8, 8, r"secagg.modulus_bits=8: must be an integer above "
                    r"secagg.quantization_bits \(8\) and at most 62"),
        (1.0, 8, 63, "secagg.modulus_bits=63"),
        (1.0, 8, 16.0, "secagg.modulus_bits=16.0"),
    ],
)
def test_invalid_parameters_name_the_config_key(
    clip: object, bits: object, modulus_bits: object, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        Quantizer(clip, bits, modulus_bits)  # type: ignore[arg-type]


def test_accepts_integer_clip_and_empty_input() -> None:
    q = Quantizer(2, 8, 16)
    assert q.encode(np.array([])).shape == (0,)
    assert q.decode_sum(np.zeros((0, 3), np.uint64), 3).shape == (0, 3)
    assert q.encode(2).shape == ()


def test_uses_no_insecure_randomness(monkeypatch: pytest.MonkeyPatch) -> None:
    forbid_insecure_rng(monkeypatch)
    q = Quantizer(1.0, 8, 16)
    x = np.array([0.1, -0.7, 0.99])
    assert np.abs(_decode_each(q, q.encode(x)) - x).max() <= q.step


def _add(q: Quantizer, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(a + b) mod 2**modulus_bits, as the protocol sums residues."""
    return (a.astype(np.uint64) + b.astype(np.uint64)) & np.uint64(q.modulus - 1)
