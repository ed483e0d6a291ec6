"""One audit: train with the included canaries, score every canary, bound ε.

The training is the caller's (``train``): privacy/ knows no task or federation. It must
train exactly as the audited run would, on the site's rows plus the canary rows it gets.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from torch import nn
from torch.utils.data import TensorDataset

from privacy.audit.bound import AuditBound, best_bound, guess_counts
from privacy.audit.canaries import Canaries
from privacy.audit.scoring import loss_scores

TrainWithCanaries = Callable[[TensorDataset], nn.Module]
"""Trains on the audited data plus the given canary rows; returns the final model."""

GUESS_FRACTIONS: tuple[tuple[float, float], ...] = (
    (0.01, 0.01), (0.025, 0.025), (0.05, 0.05), (0.1, 0.1), (0.25, 0.25), (0.5, 0.5),
    (0.02, 0.0), (0.05, 0.0), (0.1, 0.0),
)
"""(share of canaries guessed included, share guessed excluded), fixed in advance: the
top and bottom of the score ranking. Symmetric guesses suit a memorising model, a few
confident "included" guesses suit a DP one; the union bound over these 9 costs a factor
9 in the p-value (95% overall = 99.44% per candidate)."""


@dataclass(frozen=True)
class AuditOutcome:
    """The bound, the canary counts and the mean canary loss of each side."""

    bound: AuditBound
    canaries: int
    included: int
    mean_loss_included: float
    mean_loss_excluded: float


def run_audit(canaries: Canaries, train: TrainWithCanaries, *, delta: float,
              confidence: float,
              guess_fractions: Sequence[tuple[float, float]] = GUESS_FRACTIONS
              ) -> AuditOutcome:
    """Train with the included canaries, score all m with the loss attack, and bound ε
    at ``confidence`` for the ``delta`` of the audited claim."""
    counts = guess_counts(len(canaries), guess_fractions)  # fixed before training
    model = train(canaries.training_rows())
    scores = loss_scores(model, canaries.inputs, canaries.labels)
    bound = best_bound(scores, canaries.included, counts, delta, confidence)
    losses = -scores
    return AuditOutcome(bound, len(canaries), int(canaries.included.sum()),
                        _mean(losses[canaries.included]), _mean(losses[~canaries.included]))


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if len(values) else float("nan")
