"""DP-FedAvg arithmetic: calibration, clipping, the fixed denominator and the noise."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats

from conf.errors import ConfigError
from privacy.accountants import CALIBRATION_TOLERANCE
from privacy.events import GaussianEvent, event_from_dict
from privacy.noise import SeededNoise, noise_source
from privacy.site_level import SiteLevelPlan, cohort_size
from privacy.vectors import clip_l2, flatten
from tests.support.insecure_rng import forbid_every_insecure_rng

finite = st.floats(-1e3, 1e3, allow_nan=False, width=64)
vectors = arrays(np.float64, st.integers(1, 40), elements=finite)


@pytest.mark.parametrize(("population", "fraction", "minimum", "expected"), [
    (10, 1.0, 2, 10), (10, 0.5, 2, 5), (10, 0.1, 2, 2), (3, 0.5, 5, 3), (7, 0.5, 2, 3)])
def test_cohort_size_follows_flowers_fedavg_rule(population: int, fraction: float,
                                                 minimum: int, expected: int) -> None:
    assert cohort_size(population, fraction, minimum) == expected


@pytest.mark.parametrize("fraction", [1.0, 0.5])
def test_plan_spends_at_most_the_target_over_the_planned_rounds(make_config,
                                                               fraction: float) -> None:
    cfg = make_config("privacy=client_dp", "sites=10", "rounds=5", "privacy.client.epsilon=4",
                      f"strategy.fraction_train={fraction}")
    plan = SiteLevelPlan.for_run(cfg)
    events = [plan.release("run", r, int(10 * fraction), 10) for r in range(1, 6)]
    spent = plan.epsilon(events)
    assert 4 - CALIBRATION_TOLERANCE <= spent <= 4
    assert plan.noise_std(5) == pytest.approx(plan.noise_multiplier * 1.0 / 5)
    one_more = plan.epsilon([*events, plan.release("run", 6, int(10 * fraction), 10)])
    assert one_more > 4


def test_sampling_amplifies(make_config) -> None:
    full = SiteLevelPlan.for_run(make_config("privacy=client_dp", "rounds=5"))
    half = SiteLevelPlan.for_run(make_config("privacy=client_dp", "rounds=5",
                                             "strategy.fraction_train=0.5"))
    assert half.noise_multiplier < full.noise_multiplier


def test_unreachable_target_names_the_site_level_key(make_config) -> None:
    cfg = make_config("privacy=client_dp", "privacy.client.epsilon=1e-9", "rounds=1000")
    with pytest.raises(ConfigError, match=r"privacy\.client\.epsilon"):
        SiteLevelPlan.for_run(cfg)


@given(vectors, st.floats(1e-3, 1e3))
def test_clip_l2_bounds_the_norm_and_keeps_the_direction(vector: np.ndarray,
                                                         bound: float) -> None:
    clipped = clip_l2(vector, bound)
    norm = float(np.linalg.norm(vector))
    assert np.linalg.norm(clipped) <= bound * (1 + 1e-12)
    if norm <= bound:
        assert np.array_equal(clipped, vector)
    else:
        assert np.allclose(clipped * (norm / bound), vector)


def _plan(z: float = 1.5, clip: float = 1.0) -> SiteLevelPlan:
    return SiteLevelPlan(noise_multiplier=z, clipping_norm=clip, target_epsilon=8.0,
                         delta=1e-3, accountant="rdp")


@settings(max_examples=50)
@given(st.integers(1, 30).flatmap(lambda n: st.lists(
    arrays(np.float64, n, elements=finite), min_size=2, max_size=6)), st.integers(0, 10))
def test_one_site_moves_the_release_by_at_most_clip_over_cohort(updates: list[np.ndarray],
                                                                extra: int) -> None:
    """The sensitivity the noise is calibrated for: adding or removing one site's update
    changes the noiseless release by at most S / cohort, whoever else replied."""
    plan, cohort = _plan(), len(updates) + extra
    with_all = plan.noisy_mean(updates, cohort, SeededNoise(7))
    without_one = plan.noisy_mean(updates[1:], cohort, SeededNoise(7))
    assert np.linalg.norm(with_all - without_one) <= plan.clipping_norm / cohort * (1 + 1e-9)


def test_release_is_the_clipped_sum_over_the_cohort_plus_noise_of_the_stated_std() -> None:
    plan = _plan(z=2.0, clip=0.5)
    updates = [np.full(200_000, 0.01), np.zeros(200_000), np.full(200_000, -0.003)]
    released = plan.noisy_mean(updates, 4, SeededNoise(3))
    expected = sum(clip_l2(u, 0.5) for u in updates) / 4
    noise = released - expected
    assert abs(noise.mean()) < 5 * plan.noise_std(4) / np.sqrt(noise.size)
    assert noise.std() == pytest.approx(plan.noise_std(4), rel=0.01)
    assert plan.noise_std(4) == pytest.approx(2.0 * 0.5 / 4)


def test_noise_is_fresh_from_fresh_sources() -> None:
    plan, updates = _plan(), [np.zeros(1000)]
    a = plan.noisy_mean(updates, 2, noise_source(None))
    b = plan.noisy_mean(updates, 2, noise_source(None))
    assert not np.array_equal(a, b)


def test_csprng_noise_has_the_calibrated_std(monkeypatch) -> None:
    """Kolmogorov–Smirnov: the noise DP-FedAvg adds is N(0, (z·S/cohort)²) per coordinate,
    drawn with torch's, numpy's and Python's generators all refusing."""
    plan = _plan(z=2.0, clip=0.5)
    forbid_every_insecure_rng(monkeypatch)
    released = plan.noisy_mean([np.zeros(50_000)], 4, noise_source(None))
    assert stats.kstest(released / plan.noise_std(4), "norm").pvalue > 1e-3


def test_release_events_record_the_sampling_rate_and_round_trip() -> None:
    event = _plan().release("run-1", 3, cohort=5, population=20)
    assert event.accountant_history() == [(1.5, 0.25, 1)]
    assert event_from_dict(event.to_dict()) == event
    with pytest.raises(ValueError, match="sample_rate"):
        GaussianEvent(run_id="r", round=1, noise_multiplier=1.0, label="x", sample_rate=1.5)


def test_flatten_concatenates_in_order_as_float64() -> None:
    out = flatten([np.ones((2, 2), np.float32), np.arange(3)])
    assert out.dtype == np.float64 and out.tolist() == [1, 1, 1, 1, 0, 1, 2]
