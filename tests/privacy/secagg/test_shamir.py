"""privacy.secagg.shamir: reconstruction, perfect secrecy of t-1 shares, share encoding."""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from privacy.secagg.shamir import PRIME, SHARE_BYTES, Share, ShareError, combine, split
from tests.support.insecure_rng import forbid_insecure_rng


@st.composite
def sharings(draw: st.DrawFn) -> tuple[bytes, int, list[Share]]:
    """A random secret of 1..64 bytes, a threshold and its shares (count up to 20)."""
    secret = draw(st.binary(min_size=1, max_size=64))
    count = draw(st.integers(1, 20))
    threshold = draw(st.integers(1, count))
    return secret, threshold, split(secret, threshold, count)


@given(sharings(), st.randoms(use_true_random=False))
def test_any_threshold_shares_reconstruct(sharing, rng: random.Random) -> None:
    secret, threshold, shares = sharing
    subset = rng.sample(shares, threshold)
    assert combine(subset, threshold, len(secret)) == secret


@given(sharings(), st.randoms(use_true_random=False))
def test_extra_shares_are_ignored(sharing, rng: random.Random) -> None:
    secret, threshold, shares = sharing
    rng.shuffle(shares)
    assert combine(shares, threshold, len(secret)) == secret


def _interpolate(points: list[tuple[int, int]]) -> list[int]:
    """Coefficients (constant first) of the polynomial of degree < len(points) through
    ``points``, mod p: the sum of y_i times the Lagrange basis polynomial of x_i."""
    result = [0] * len(points)
    for i, (xi, yi) in enumerate(points):
        basis, denominator = [1], 1
        for j, (xj, _) in enumerate(points):
            if j != i:  # basis *= (x - xj)
                shifted, padded = [0, *basis], [*basis, 0]
                basis = [(a - xj * b) % PRIME for a, b in zip(shifted, padded, strict=True)]
                denominator = denominator * (xi - xj) % PRIME
        factor = yi * pow(denominator, -1, PRIME) % PRIME
        result = [(r + factor * b) % PRIME for r, b in zip(result, basis, strict=True)]
    return result


def _evaluate(coefficients: list[int], x: int) -> int:
    return sum(c * pow(x, power, PRIME) for power, c in enumerate(coefficients)) % PRIME


@given(
    st.binary(min_size=1, max_size=64),
    st.binary(min_size=1, max_size=64),
    st.integers(2, 12),
    st.integers(0, 8),
    st.randoms(use_true_random=False),
)
@settings(max_examples=60)
def test_threshold_minus_one_shares_fit_every_secret(
    secret: bytes, candidate: bytes, threshold: int, extra: int, rng: random.Random
) -> None:
    shares = split(secret, threshold, threshold + extra)
    seen = rng.sample(shares, threshold - 1)
    unseen = [share for share in shares if share not in seen]
    target = int.from_bytes(candidate, "big")
    poly = _interpolate([(0, target)] + [(s.index, s.value) for s in seen])
    # A polynomial of degree <= t-1 with constant term S' agrees with every seen share: the
    # seen shares are as likely under S' as under the real secret (one polynomial each).
    assert len(poly) == threshold
    assert poly[0] == target
    assert all(_evaluate(poly, s.index) == s.value for s in seen)
    # It is the real sharing polynomial exactly when S' = S (then it fits the rest too).
    fits_rest = all(_evaluate(poly, s.index) == s.value for s in unseen)
    assert fits_rest == (target == int.from_bytes(secret, "big"))
    with pytest.raises(ShareError, match=f"{threshold - 1} share\\(s\\) given, {threshold}"):
        combine(seen, threshold, len(secret))


@given(st.integers(1, 2**16 - 1), st.integers(0, PRIME - 1))
def test_share_bytes_round_trip(index: int, value: int) -> None:
    data = Share(index, value).to_bytes()
    assert len(data) == SHARE_BYTES == 68
    assert Share.from_bytes(data) == Share(index, value)


def test_known_answer_and_modular_wrap() -> None:
    # f(x) = 5 + 7x: f(1) = 12, f(2) = 19
    assert combine([Share(2, 19), Share(1, 12)], 2, 1) == b"\x05"
    # f(x) = 5 + (p - 1)x, i.e. 5 - x mod p: f(1) = 4, f(3) = 2
    assert combine([Share(1, 4), Share(3, 2)], 2, 1) == b"\x05"
    # f(x) = 1 - x mod p: f(2) = p - 1
    assert combine([Share(2, PRIME - 1), Share(1, 0)], 2, 2) == b"\x00\x01"


def test_threshold_one_shares_are_the_secret_and_split_is_fresh() -> None:
    assert split(b"\x01\x02", 1, 3) == [Share(i, 0x0102) for i in (1, 2, 3)]
    first, second = split(b"seed", 2, 3), split(b"seed", 2, 3)
    assert first != second  # fresh random coefficients each time
    assert [s.index for s in first] == [1, 2, 3]


def test_leading_zero_bytes_survive() -> None:
    secret = bytes(31) + b"\x07"
    assert combine(split(secret, 3, 5)[2:], 3, 32) == secret
    assert combine(split(b"", 2, 2), 2, 0) == b""


@pytest.mark.parametrize(
    ("secret", "threshold", "count", "message"),
    [
        (bytes(65), 2, 3, "at most 64 bytes, got 65"),
        (b"s", 0, 3, "threshold=0"),
        (b"s", 4, 3, "threshold=4, count=3"),
        (b"s", 1, 2**16, "count=65536"),
    ],
)
def test_split_rejects_bad_arguments(
    secret: bytes, threshold: int, count: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        split(secret, threshold, count)


def test_combine_rejects_bad_share_sets() -> None:
    shares = split(b"secret", 3, 5)
    with pytest.raises(ShareError, match=r"index\(es\) \[2\] given more than once"):
        combine([shares[1], shares[0], shares[1]], 3, 6)
    with pytest.raises(ShareError, match="longer than 2 bytes"):
        combine(shares, 3, 2)
    with pytest.raises(ValueError, match="threshold must be >= 1"):
        combine(shares, 0, 6)
    with pytest.raises(ValueError, match=r"length must be in 0\.\.64"):
        combine(shares, 3, 65)


def test_corrupted_share_is_detected_only_when_it_overflows_the_length() -> None:
    shares = split(bytes(32), 3, 3)
    # Share 1's Lagrange coefficient at 0 among indices 1, 2, 3 is 2*3 / (1*2) = 3.
    small = Share(1, (shares[0].value + 1) % PRIME)
    assert combine([small, *shares[1:]], 3, 32) == (3).to_bytes(32, "big")
    large = Share(1, (shares[0].value + 2**300) % PRIME)
    with pytest.raises(ShareError, match="inconsistent"):
        combine([large, *shares[1:]], 3, 32)


@pytest.mark.parametrize(
    ("index", "value", "message"),
    [(0, 1, "index 0 is outside"), (2**16, 1, "index 65536"), (1, PRIME, "value"),
     (1, -1, "value")],
)
def test_share_rejects_out_of_range(index: int, value: int, message: str) -> None:
    with pytest.raises(ShareError, match=message):
        Share(index, value)


def test_share_from_bytes_rejects_malformed() -> None:
    with pytest.raises(ShareError, match="68 bytes, got 67"):
        Share.from_bytes(bytes(67))
    with pytest.raises(ShareError, match="index 0"):
        Share.from_bytes(bytes(68))
    with pytest.raises(ShareError, match="value"):
        Share.from_bytes(b"\x00\x01" + PRIME.to_bytes(66, "big"))


def test_uses_no_insecure_randomness(monkeypatch: pytest.MonkeyPatch) -> None:
    forbid_insecure_rng(monkeypatch)
    secret = b"k" * 32
    assert combine(split(secret, 4, 7)[3:], 4, 32) == secret
