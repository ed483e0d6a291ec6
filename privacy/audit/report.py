"""``audit.json`` and the printed line: the bound next to the claimed ε, with the attack,
the number of canaries, the guesses and the confidence (format: docs/audit.md)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from privacy.atomic import atomic_write_text
from privacy.audit.bound import GuessOutcome
from privacy.audit.runner import AuditOutcome
from privacy.audit.scoring import ATTACK, ATTACK_DESCRIPTION

FORMAT_VERSION = 1
METHOD = ("one-run audit, Steinke, Nasr & Jagielski 2023 (Privacy Auditing with One (1) "
          "Training Run, Theorem 5.2: (ε, δ) p-value of the correct guesses)")


@dataclass(frozen=True)
class Claim:
    """What the audited training claims: record-level (ε, δ) under an accountant, or no
    DP at all (``epsilon`` None). ``epsilon`` is the accountant's ε of the training the
    audit ran (at most ``target_epsilon``); ``delta`` is the δ the bound is computed at."""

    epsilon: float | None
    target_epsilon: float | None
    delta: float
    accountant: str | None
    noise_seeded: bool
    unit: str = "record"

    def text(self) -> str:
        """``claimed ε=2.98 (rdp, δ=1e-05, unit=record)`` or the no-DP equivalent."""
        if self.epsilon is None:
            return (f"no DP claimed (non-private training; bound at δ={self.delta:g}, "
                    f"unit={self.unit})")
        seeded = "; DP noise seeded: NOT private" if self.noise_seeded else ""
        return (f"claimed ε={self.epsilon:.3g} ({self.accountant}, δ={self.delta:g}, "
                f"unit={self.unit}{seeded})")


def summary_line(outcome: AuditOutcome, claim: Claim) -> str:
    """The one-line result, e.g. ``empirical ε ≥ 0.41 at 95% confidence (...) vs ...``."""
    bound, best = outcome.bound, outcome.bound.best
    return (f"empirical ε ≥ {bound.epsilon:.3g} at {_percent(bound.confidence)} confidence "
            f"(one-run audit, Steinke et al. 2023; m={outcome.canaries} canaries, "
            f"{best.guesses} guesses, {best.correct} correct; black-box {ATTACK} attack) "
            f"vs {claim.text()}")


def _percent(confidence: float) -> str:
    return f"{confidence * 100:.4g}%"


def audit_record(outcome: AuditOutcome, claim: Claim, context: dict[str, Any]) -> dict:
    """The ``audit.json`` object (``context``: site, task, training facts, seed, time)."""
    bound = outcome.bound
    return {
        "format": FORMAT_VERSION,
        "method": METHOD,
        "attack": ATTACK,
        "attack_description": ATTACK_DESCRIPTION,
        "canaries": outcome.canaries,
        "canaries_included": outcome.included,
        "confidence": bound.confidence,
        "epsilon_lower_bound": bound.epsilon,
        "claimed_epsilon": claim.epsilon,
        "target_epsilon": claim.target_epsilon,
        "delta": claim.delta,
        "accountant": claim.accountant,
        "unit": claim.unit,
        "private": claim.epsilon is not None and not claim.noise_seeded,
        "dp_noise_seeded": claim.noise_seeded,
        "guesses": bound.best.guesses,
        "correct": bound.best.correct,
        "positive_guesses": bound.best.positives,
        "negative_guesses": bound.best.negatives,
        "guess_selection": (
            f"best of {len(bound.candidates)} (k+, k-) fixed in advance, each at confidence "
            f"{bound.candidate_confidence:.6g} = 1 - (1 - {bound.confidence:g})/"
            f"{len(bound.candidates)} (union bound)"),
        "candidates": [_candidate(c) for c in bound.candidates],
        "mean_loss_included": outcome.mean_loss_included,
        "mean_loss_excluded": outcome.mean_loss_excluded,
        **context,
        "summary": summary_line(outcome, claim),
    }


def _candidate(outcome: GuessOutcome) -> dict[str, Any]:
    return {"positive_guesses": outcome.positives, "negative_guesses": outcome.negatives,
            "guesses": outcome.guesses, "correct": outcome.correct,
            "epsilon_lower_bound": outcome.epsilon}


def write_audit(path: str | os.PathLike[str], record: dict) -> None:
    """Write ``audit.json`` atomically."""
    atomic_write_text(path, json.dumps(record, indent=2) + "\n")
