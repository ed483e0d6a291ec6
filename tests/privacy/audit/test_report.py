"""audit.json and the printed line state the attack, m, guesses, confidence and the claim."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from privacy.audit.bound import best_bound, guess_counts
from privacy.audit.report import Claim, audit_record, summary_line, write_audit
from privacy.audit.runner import AuditOutcome

REQUIRED = {"attack", "canaries", "confidence", "epsilon_lower_bound", "claimed_epsilon",
            "delta", "accountant", "unit", "guesses", "correct", "guess_selection", "method"}


def outcome() -> AuditOutcome:
    scores = np.arange(200, dtype=float)
    bound = best_bound(scores, scores >= 100, guess_counts(200, [(0.5, 0.5)]), 1e-5, 0.95)
    return AuditOutcome(bound, 200, 100, 0.1, 5.0)


def test_summary_line_names_bound_attack_counts_and_claim() -> None:
    claim = Claim(epsilon=2.98, target_epsilon=3.0, delta=1e-5, accountant="rdp",
                  noise_seeded=False)
    line = summary_line(outcome(), claim)
    bound = outcome().bound.epsilon
    assert line.startswith(f"empirical ε ≥ {bound:.3g} at 95% confidence (one-run audit, "
                           "Steinke et al. 2023; m=200 canaries, 200 guesses, 200 correct; "
                           "black-box loss attack) vs claimed ε=2.98 (rdp, δ=1e-05, "
                           "unit=record)")


def test_audit_json_holds_the_documented_keys(tmp_path: Path) -> None:
    claim = Claim(None, None, 1e-5, None, noise_seeded=False)
    record = audit_record(outcome(), claim, {"site": "site-0"})
    write_audit(tmp_path / "audit.json", record)
    saved = json.loads((tmp_path / "audit.json").read_text())
    assert saved.keys() >= REQUIRED
    assert saved["claimed_epsilon"] is None and saved["private"] is False
    assert saved["unit"] == "record" and saved["site"] == "site-0"
    assert saved["canaries"] == 200 and saved["confidence"] == 0.95
    assert "no DP claimed" in saved["summary"]
    assert "union bound" in saved["guess_selection"]
