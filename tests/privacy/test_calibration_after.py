"""Calibrating DP-SGD after earlier releases of the same run (a DP synthetic table):
the composed ε meets the target, checked against an independent Opacus accountant."""

from __future__ import annotations

import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opacus.accountants import RDPAccountant

from conf.errors import ConfigError
from privacy.accountants import (
    CALIBRATION_TOLERANCE,
    calibrate_noise_multiplier,
    calibrate_noise_multiplier_after,
)

DELTA = 1e-5


def _independent(history: list[tuple[float, float, int]]) -> float:
    accountant = RDPAccountant()
    accountant.history = history
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return accountant.get_epsilon(DELTA)


@settings(max_examples=5, deadline=None)
@given(target=st.floats(1.0, 8.0), prior_sigma=st.floats(3.0, 20.0),
       q=st.floats(0.01, 0.2), steps=st.integers(10, 500))
def test_composed_epsilon_meets_the_target(target: float, prior_sigma: float, q: float,
                                           steps: int) -> None:
    prior = [(prior_sigma, 1.0, 1)]
    if _independent(prior) >= target:
        return
    sigma = calibrate_noise_multiplier_after(target, DELTA, q, steps, "rdp", prior)
    composed = _independent([*prior, (sigma, q, steps)])
    assert target - CALIBRATION_TOLERANCE <= composed <= target


def test_a_prior_release_costs_dp_sgd_noise_but_less_than_its_own_epsilon() -> None:
    """Composition under RDP is sub-additive: a synthesis of ε=1 standalone leaves DP-SGD
    more than ε=2 of a total of 3 (its σ lies between the σ for 3 and the σ for 2)."""
    q, steps, prior = 0.05, 200, [(4.0625, 1.0, 1)]  # about ε=1 at δ=1e-5 alone
    alone = calibrate_noise_multiplier(3.0, DELTA, q, steps, "rdp")
    after = calibrate_noise_multiplier_after(3.0, DELTA, q, steps, "rdp", prior)
    two = calibrate_noise_multiplier(2.0, DELTA, q, steps, "rdp")
    assert alone < after < two


def test_without_a_prior_it_is_the_plain_calibration() -> None:
    assert calibrate_noise_multiplier_after(3.0, DELTA, 0.05, 100, "rdp", []) == \
        calibrate_noise_multiplier(3.0, DELTA, 0.05, 100, "rdp")


def test_a_prior_that_spends_the_target_is_refused() -> None:
    with pytest.raises(ConfigError, match="earlier releases alone spend"):
        calibrate_noise_multiplier_after(1.0, DELTA, 0.05, 100, "rdp", [(2.0, 1.0, 1)])


def test_a_target_just_above_the_prior_needs_too_much_noise() -> None:
    prior = [(4.0625, 1.0, 1)]
    floor = _independent(prior)
    with pytest.raises(ConfigError, match="DP-SGD would need"):
        calibrate_noise_multiplier_after(floor + 1e-9, DELTA, 1.0, 10**9, "rdp", prior)
