"""The one-run audit's ε lower bound: exact values, shape, and soundness against
mechanisms whose true ε is known (randomized response)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from privacy.audit.bound import (
    best_bound,
    epsilon_lower_bound,
    guess_counts,
    p_value,
    score_guesses,
)
from privacy.audit.runner import GUESS_FRACTIONS

counts = st.integers(1, 300).flatmap(
    lambda m: st.tuples(st.just(m), st.integers(1, m)).flatmap(
        lambda mr: st.tuples(st.just(mr[0]), st.just(mr[1]), st.integers(0, mr[1]))))
deltas = st.sampled_from([0.0, 1e-6, 1e-5, 1e-3])
confidences = st.sampled_from([0.9, 0.95, 0.99])


def test_all_correct_without_delta_is_the_binomial_quantile() -> None:
    # 100 of 100 correct: p^100 <= 0.05  <=>  ε <= logit(0.05^(1/100))
    p = 0.05 ** (1 / 100)
    exact = math.log(p / (1 - p))
    bound = epsilon_lower_bound(100, 100, 100, 0.0, 0.95)
    assert exact - 1e-5 < bound <= exact


def test_p_value_adds_the_delta_term_of_theorem_5_2() -> None:
    m, r, v, eps, delta = 1000, 200, 150, 1.0, 1e-4
    p = 1 / (1 + math.exp(-eps))
    alpha = max(stats.binom.pmf(range(v - i, v), r, p).sum() / i for i in range(1, v + 1))
    expected = stats.binom.sf(v - 1, r, p) + 2 * m * delta * alpha
    assert p_value(m, r, v, eps, delta) == pytest.approx(expected, rel=1e-9)
    assert p_value(m, r, v, eps, 0.0) == pytest.approx(stats.binom.sf(v - 1, r, p), rel=1e-12)


@given(counts, deltas, confidences)
@settings(max_examples=60, deadline=None)
def test_more_correct_guesses_never_lower_the_bound(mrv, delta, confidence) -> None:
    m, r, v = mrv
    if v < r:
        assert (epsilon_lower_bound(m, r, v, delta, confidence)
                <= epsilon_lower_bound(m, r, v + 1, delta, confidence) + 1e-6)


@given(counts, deltas, confidences)
@settings(max_examples=60, deadline=None)
def test_chance_accuracy_gives_zero(mrv, delta, confidence) -> None:
    m, r, _ = mrv
    assert epsilon_lower_bound(m, r, r // 2, delta, confidence) == 0.0


@given(counts, confidences)
@settings(max_examples=40, deadline=None)
def test_delta_and_confidence_only_lower_the_bound(mrv, confidence) -> None:
    m, r, v = mrv
    pure = epsilon_lower_bound(m, r, v, 0.0, confidence)
    assert epsilon_lower_bound(m, r, v, 1e-3, confidence) <= pure + 1e-6
    assert epsilon_lower_bound(m, r, v, 0.0, 0.999) <= pure + 1e-6


@given(st.integers(10, 400), st.floats(0.1, 6.0), confidences)
@settings(max_examples=40, deadline=None)
def test_exactly_epsilon_dp_guesser_exceeds_epsilon_at_most_one_minus_confidence(
        m, epsilon, confidence) -> None:
    """ε-DP randomized response guessing all m canaries: W ~ Binomial(m, e^ε/(1+e^ε)).
    The bound exceeds the true ε exactly when W reaches the smallest v whose bound does;
    that probability, computed exactly, must be at most 1 - confidence."""
    low, high = 0, m + 1  # the bound is monotone in v: bisect for the first v over ε
    while low < high:
        middle = (low + high) // 2
        if middle <= m and epsilon_lower_bound(m, m, middle, 0.0, confidence) > epsilon:
            high = middle
        else:
            low = middle + 1
    first_over = low
    p = 1 / (1 + math.exp(-epsilon))
    assert stats.binom.sf(first_over - 1, m, p) <= 1 - confidence + 1e-12


def test_simulated_dp_mechanism_with_abstentions_fails_rarely() -> None:
    """Whole pipeline: ε-DP randomized response on each inclusion bit, scores from its
    output, best of the fixed guess counts; the bound exceeds ε in <= 5% of 300 trials."""
    epsilon, m, trials, confidence = 1.0, 200, 300, 0.95
    rng = np.random.default_rng(7)
    pairs = guess_counts(m, [(0.05, 0.05), (0.25, 0.25), (0.5, 0.5), (0.1, 0.0)])
    failures = 0
    for _ in range(trials):
        included = rng.random(m) < 0.5
        truthful = rng.random(m) < math.exp(epsilon) / (1 + math.exp(epsilon))
        scores = np.where(truthful == included, 1.0, -1.0) + rng.normal(0, 0.01, m)
        failures += best_bound(scores, included, pairs, 0.0, confidence).epsilon > epsilon
    # 95% promises at most 15 expected failures; 15 + 3 standard deviations
    assert failures <= 15 + 3 * math.sqrt(trials * 0.05 * 0.95)


def test_score_guesses_takes_top_and_bottom_and_breaks_ties_by_index() -> None:
    scores = np.array([5.0, 1.0, 1.0, -3.0, 0.0])
    included = np.array([True, False, True, False, False])
    assert score_guesses(scores, included, 1, 1) == (2, 2)  # 0 in, 3 out: both right
    assert score_guesses(scores, included, 2, 0) == (2, 1)  # tie 1,2: index 1 first, wrong
    assert score_guesses(scores, included, 0, 2) == (2, 2)  # 4 and 3 out


def test_best_bound_uses_the_union_bound_over_candidates() -> None:
    scores = np.arange(100, dtype=float)
    included = scores >= 50  # a perfect attack
    pairs = guess_counts(100, [(0.5, 0.5), (0.1, 0.1)])
    result = best_bound(scores, included, pairs, 0.0, 0.95)
    assert result.candidate_confidence == pytest.approx(0.975)
    assert result.best.guesses == 100 and result.best.correct == 100
    assert result.epsilon == epsilon_lower_bound(100, 100, 100, 0.0, 0.975)
    assert result.epsilon < epsilon_lower_bound(100, 100, 100, 0.0, 0.95)
    chance = best_bound(scores, scores % 2 == 0, pairs, 0.0, 0.95)  # nothing to find
    assert chance.epsilon == 0.0 and chance.best.guesses == 100


def test_guess_counts_refuse_impossible_shares_and_drop_duplicates() -> None:
    assert guess_counts(100, [(0.1, 0.1), (0.1, 0.1), (0.05, 0.0)]) == [(10, 10), (5, 0)]
    # small or odd m: at least one guess per non-zero share, never more than m in all
    assert guess_counts(11, [(0.01, 0.01), (0.5, 0.5), (0.02, 0.0)]) == [(1, 1), (5, 5), (1, 0)]
    with pytest.raises(ValueError, match="between 1 and 100"):
        guess_counts(100, [(0.6, 0.5)])
    with pytest.raises(ValueError, match="need 0 <= correct"):
        p_value(10, 5, 6, 1.0, 0.0)


@given(st.integers(10, 5000))
def test_default_guess_counts_fit_every_allowed_number_of_canaries(m: int) -> None:
    pairs = guess_counts(m, GUESS_FRACTIONS)
    assert pairs and all(1 <= k_pos + k_neg <= m for k_pos, k_neg in pairs)
