"""privacy.accountants: ε of events against independent recomputations, and calibration."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opacus.accountants import PRVAccountant, RDPAccountant
from opacus.accountants.analysis.rdp import compute_rdp, get_privacy_spent

from conf.errors import ConfigError
from privacy.accountants import (
    ACCOUNTANTS,
    CALIBRATION_TOLERANCE,
    accountant_history,
    calibrate_noise_multiplier,
    epsilon_of,
)
from privacy.events import DpSgdEvent, GaussianEvent

DELTA = 1e-5
MIXED = [
    DpSgdEvent(run_id="a", round=1, noise_multiplier=1.1, sample_rate=0.1, steps=10),
    DpSgdEvent(run_id="a", round=2, noise_multiplier=1.1, sample_rate=0.1, steps=10),
    GaussianEvent(run_id="a", round=0, noise_multiplier=6.0, label="row count"),
    DpSgdEvent(run_id="b", round=1, noise_multiplier=2.0, sample_rate=0.05, steps=40),
]


@pytest.mark.parametrize("accountant", ACCOUNTANTS)
def test_no_events_spend_nothing(accountant: str) -> None:
    assert epsilon_of([], DELTA, accountant) == 0.0


def test_history_merges_equal_sigma_and_rate_in_first_order() -> None:
    assert accountant_history(MIXED) == [(1.1, 0.1, 20), (6.0, 1.0, 1), (2.0, 0.05, 40)]


def test_rdp_matches_opacus_rdp_analysis() -> None:
    orders = RDPAccountant.DEFAULT_ALPHAS
    rdp = sum(
        compute_rdp(q=q, noise_multiplier=sigma, steps=steps, orders=orders)
        for event in MIXED
        for sigma, q, steps in event.accountant_history()
    )
    expected, _ = get_privacy_spent(orders=orders, rdp=rdp, delta=DELTA)
    assert epsilon_of(MIXED, DELTA, "rdp") == pytest.approx(float(expected), rel=1e-12)


def test_prv_matches_a_fresh_prv_accountant() -> None:
    accountant = PRVAccountant()
    accountant.history = [h for event in MIXED for h in event.accountant_history()]
    # The fresh accountant sees the history unmerged; PRV discretisation differs slightly.
    assert epsilon_of(MIXED, DELTA, "prv") == pytest.approx(accountant.get_epsilon(DELTA), abs=1e-3)


@pytest.mark.parametrize("accountant", ACCOUNTANTS)
def test_rounds_match_what_an_engine_accountant_records(accountant: str) -> None:
    rounds = [DpSgdEvent("r", i, 0.9, 0.2, 5) for i in range(1, 5)]
    engine_accountant = PRVAccountant() if accountant == "prv" else RDPAccountant()
    for _ in range(20):
        engine_accountant.step(noise_multiplier=0.9, sample_rate=0.2)
    assert epsilon_of(rounds, DELTA, accountant) == engine_accountant.get_epsilon(DELTA)


@pytest.mark.parametrize("accountant", ACCOUNTANTS)
def test_calibrated_sigma_never_exceeds_target(accountant: str) -> None:
    sigma = calibrate_noise_multiplier(3.0, DELTA, 0.14, 70, accountant)
    single = epsilon_of([DpSgdEvent("r", 1, sigma, 0.14, 70)], DELTA, accountant)
    assert 3.0 - CALIBRATION_TOLERANCE <= single <= 3.0
    rounds = [DpSgdEvent("r", i, sigma, 0.14, 7) for i in range(1, 11)]
    assert epsilon_of(rounds, DELTA, accountant) == single


@settings(max_examples=5, deadline=None)
@given(
    target=st.floats(0.3, 12.0),
    sample_rate=st.floats(0.001, 0.5),
    steps=st.integers(1, 200),
)
def test_rdp_calibration_within_tolerance_below_target(
    target: float, sample_rate: float, steps: int
) -> None:
    sigma = calibrate_noise_multiplier(target, DELTA, sample_rate, steps, "rdp")
    eps = epsilon_of([DpSgdEvent("r", 1, sigma, sample_rate, steps)], DELTA, "rdp")
    assert target - CALIBRATION_TOLERANCE <= eps <= target


def test_unknown_accountant_lists_allowed_names() -> None:
    with pytest.raises(ConfigError, match=r"'gdp'.*allowed: rdp, prv"):
        epsilon_of(MIXED, DELTA, "gdp")
    with pytest.raises(ConfigError, match=r"allowed: rdp, prv"):
        calibrate_noise_multiplier(3.0, DELTA, 0.1, 10, "RDP")


@pytest.mark.parametrize("delta", [0.0, 1.0, -1e-5])
def test_delta_out_of_range_is_refused(delta: float) -> None:
    with pytest.raises(ConfigError, match=r"δ must be in \(0, 1\)"):
        epsilon_of(MIXED, delta, "rdp")


@pytest.mark.parametrize(
    ("args", "named"),
    [
        ((0.0, DELTA, 0.1, 10), "privacy.epsilon"),
        ((3.0, DELTA, 0.0, 10), "sampling rate"),
        ((3.0, DELTA, 0.1, 0), "steps"),
    ],
)
def test_calibration_input_errors(args: tuple, named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        calibrate_noise_multiplier(*args, "rdp")


def test_unreachable_target_says_what_to_change() -> None:
    with pytest.raises(ConfigError, match=r"cannot be reached.*Raise privacy.epsilon"):
        calibrate_noise_multiplier(1e-9, DELTA, 1.0, 1000, "rdp")
