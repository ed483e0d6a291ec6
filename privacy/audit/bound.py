"""The ε lower bound of the one-run audit (Steinke, Nasr and Jagielski, NeurIPS 2023).

m canaries are each included in the training data independently with probability 1/2.
After training, an attacker guesses "included" or "excluded" for r of them (abstaining on
the rest) from the trained model alone, and v guesses are correct. If training is
(ε, δ)-DP for one canary (add/remove), the paper's Theorem 5.2 (Algorithm 2 of its
appendix) bounds the chance of v or more correct guesses:

    P[W >= v] <= β + 2·m·δ·α,   β = P[Binomial(r, p) >= v],   p = e^ε / (1 + e^ε),
    α = max_{i = 1..v} P[v - i <= Binomial(r, p) < v] / i.

For δ = 0 this is Theorem 3.1: the guesses are no better than r independent ε-DP
randomized responses. The audit reports the largest ε whose p-value is still at most
1 - confidence: a mechanism that were (ε, δ)-DP for any smaller ε would have produced
so many correct guesses with probability below 1 - confidence.

How many guesses to make must not be chosen by looking at which guesses are right: the
attacker ranks the canaries by a score computed from the model and guesses "included"
for the top k+ and "excluded" for the bottom k-. :func:`best_bound` tries a small set of
(k+, k-) fixed in advance and takes the best, each bound computed at confidence
1 - (1 - confidence)/K for K candidates, so that by the union bound the reported maximum
holds at the stated confidence.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

EPSILON_TOLERANCE = 1e-6
"""Bisection stops when the bracket is this narrow; the lower end is returned."""
MAX_EPSILON = 1e3


def p_value(m: int, r: int, v: int, epsilon: float, delta: float) -> float:
    """Upper bound on P[>= v of r guesses correct] for an (ε, δ)-DP mechanism over m
    canaries (Steinke et al. 2023, Theorem 5.2)."""
    _check_counts(m, r, v)
    if epsilon < 0 or not 0 <= delta <= 1:
        raise ValueError(f"need epsilon >= 0 and 0 <= delta <= 1, got {epsilon}, {delta}")
    p = 1 / (1 + math.exp(-epsilon))  # accuracy of ε-DP randomized response
    beta = float(stats.binom.sf(v - 1, r, p))
    if delta == 0 or v == 0:
        return min(beta, 1.0)
    # P[v - i <= Binomial(r, p) < v] for i = 1..v, divided by i
    below = np.cumsum(stats.binom.pmf(np.arange(v - 1, -1, -1), r, p))
    alpha = float(np.max(below / np.arange(1, v + 1)))
    return min(beta + 2 * m * delta * alpha, 1.0)


def epsilon_lower_bound(m: int, r: int, v: int, delta: float, confidence: float) -> float:
    """The largest ε (to ``EPSILON_TOLERANCE``, rounded down) at which v correct guesses
    out of r still have a p-value <= 1 - confidence; 0 when even ε = 0 explains them."""
    _check_counts(m, r, v)
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    level = 1 - confidence
    if v == 0 or p_value(m, r, v, 0.0, delta) > level:
        return 0.0
    low, high = 0.0, 1.0
    while p_value(m, r, v, high, delta) <= level:  # p -> 1 as ε grows (β -> 1)
        low, high = high, 2 * high
        if high > MAX_EPSILON:
            return low
    while high - low > EPSILON_TOLERANCE:  # invariant: p_value(low) <= level
        middle = (low + high) / 2
        if p_value(m, r, v, middle, delta) <= level:
            low = middle
        else:
            high = middle
    return low


def _check_counts(m: int, r: int, v: int) -> None:
    if not 0 <= v <= r <= m:
        raise ValueError(f"need 0 <= correct ({v}) <= guesses ({r}) <= canaries ({m})")


@dataclass(frozen=True)
class GuessOutcome:
    """One (k+, k-) choice: its guesses, the correct ones and the ε bound it gives at the
    per-candidate confidence."""

    positives: int
    negatives: int
    guesses: int
    correct: int
    epsilon: float


@dataclass(frozen=True)
class AuditBound:
    """The reported bound (the best candidate) and every candidate tried."""

    epsilon: float
    confidence: float
    candidate_confidence: float
    best: GuessOutcome
    candidates: tuple[GuessOutcome, ...]


def guess_counts(canaries: int, fractions: Sequence[tuple[float, float]]
                 ) -> list[tuple[int, int]]:
    """(k+, k-) for each (fraction of canaries guessed included, fraction guessed
    excluded), rounded down but at least 1 for a non-zero fraction; duplicates dropped,
    order kept. Depends on the number of canaries only: fixed before any score is seen."""
    counts: list[tuple[int, int]] = []
    for pos, neg in fractions:
        pair = (_share(pos, canaries), _share(neg, canaries))
        if sum(pair) == 0 or sum(pair) > canaries:
            raise ValueError(f"guess fractions ({pos}, {neg}) give {pair} guesses for "
                             f"{canaries} canaries; need between 1 and {canaries}")
        if pair not in counts:
            counts.append(pair)
    return counts


def _share(fraction: float, canaries: int) -> int:
    return max(1, math.floor(fraction * canaries)) if fraction > 0 else 0


def score_guesses(scores: np.ndarray, included: np.ndarray, positives: int,
                  negatives: int) -> tuple[int, int]:
    """(guesses, correct) for "included" on the ``positives`` highest scores and
    "excluded" on the ``negatives`` lowest; ties are broken by canary index (a fixed
    order that does not depend on which canaries were included)."""
    scores, included = np.asarray(scores, dtype=float), np.asarray(included, dtype=bool)
    if scores.shape != included.shape or scores.ndim != 1:
        raise ValueError("scores and included must be 1-d arrays of the same length")
    if positives + negatives > len(scores):
        raise ValueError(f"{positives} + {negatives} guesses for {len(scores)} canaries")
    order = np.argsort(-scores, kind="stable")  # highest score first
    top = order[:positives]
    bottom = order[len(order) - negatives:] if negatives else order[:0]
    correct = int(included[top].sum() + (~included[bottom]).sum())
    return positives + negatives, correct


def best_bound(scores: np.ndarray, included: np.ndarray, counts: Sequence[tuple[int, int]],
               delta: float, confidence: float) -> AuditBound:
    """The largest ε bound over the fixed ``counts`` of (k+, k-), each computed at
    confidence 1 - (1 - confidence)/len(counts) (union bound: the maximum holds at
    ``confidence``). Among equal bounds (e.g. all 0) the candidate with the most guesses
    is reported."""
    if not counts:
        raise ValueError("need at least one (k+, k-) guess count")
    m = len(scores)
    per_candidate = 1 - (1 - confidence) / len(counts)
    outcomes = []
    for positives, negatives in counts:
        r, v = score_guesses(scores, included, positives, negatives)
        outcomes.append(GuessOutcome(positives, negatives, r, v,
                                     epsilon_lower_bound(m, r, v, delta, per_candidate)))
    best = max(outcomes, key=lambda o: (o.epsilon, o.guesses))  # all 0: the most guesses
    return AuditBound(best.epsilon, confidence, per_candidate, best, tuple(outcomes))
