"""Training facts as exact coordinates: sums decode to the sites' totals, nothing wraps."""

from __future__ import annotations

import math

import pytest

from privacy.secagg import train_sums

MODULUS = 2**44


def test_sums_of_encodings_decode_to_totals_and_mean_loss() -> None:
    sites = [(0.5, 40, 10), (1.5, 60, 0), (math.nan, 0, 0)]
    encoded = [train_sums.encode(loss, n, c, MODULUS, cohort=3) for loss, n, c in sites]
    sums = [sum(column) for column in zip(*encoded, strict=True)]
    decoded = train_sums.decode(sums, sites=3)
    assert decoded["mean_train_loss"] == pytest.approx(1.0)  # the NaN site is not counted
    assert decoded["examples"] == 100 and decoded["clipped"] == 10
    assert decoded["clipped_fraction"] == pytest.approx(0.1)
    assert decoded["sites"] == 3


def test_values_are_capped_so_a_cohort_sum_cannot_wrap() -> None:
    small = 2**10
    encoded = train_sums.encode(1e9, 10**9, None, small, cohort=4)
    assert all(0 <= v <= (small - 1) // 4 for v in encoded)
    assert encoded[3:] == [0, 0]  # no clipping count without DP-SGD
    assert train_sums.encode(-3.0, 1, 0, MODULUS, 2)[1] == 0  # loss clamped at 0


def test_metrics_round_trip() -> None:
    decoded = train_sums.decode([2, 3 * train_sums.LOSS_SCALE, 10, 2, 5], sites=2)
    assert train_sums.from_metrics(train_sums.as_metrics(decoded)) == decoded
    plain = train_sums.decode([2, 3 * train_sums.LOSS_SCALE, 10, 0, 0], sites=2)
    assert plain["clipped"] is None and plain["clipped_fraction"] is None
    assert train_sums.from_metrics({"train-loss": 1.0}) is None
