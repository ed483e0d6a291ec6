"""The release gate: which privacy checks a synthetic table must pass to be written.

Each check compares one indicator from :mod:`synthetic.privacy_checks` with its bound in
``gate.*``; an indicator that could not be computed fails (the gate cannot vouch for
what it did not measure). ``force=true`` writes the table anyway and the report records
that it did.

For a differentially private synthesizer the gate is advisory: its checks read the real
rows without noise, so letting them decide the release would make the release depend on
the data beyond the DP mechanism, and ε would no longer cover it. The checks are still
computed and reported.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from conf.synth_schema import GateConfig

EXIT_BLOCKED = 4
"""Exit code of ``privfl synth`` when the gate refused to write the table."""


@dataclass(frozen=True)
class GateCheck:
    """One check: the indicator's value, its bound, and whether it passed."""

    name: str
    key: str
    value: float | None
    bound: float
    passed: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


LABELS = {"new_row_synthesis": "NewRowSynthesis",
          "dcr_baseline_protection": "DCRBaselineProtection",
          "dcr_overfitting_protection": "DCROverfittingProtection"}


def gate_checks(privacy: dict[str, Any], gate: GateConfig) -> list[GateCheck]:
    """Every gate check on the results of ``privacy_checks``."""
    copies = privacy["exact_copies"]["count"]
    checks = [GateCheck(
        "exact copies of real rows", "gate.max_exact_copies", float(copies),
        float(gate.max_exact_copies), copies <= gate.max_exact_copies,
        f"{copies} synthetic row(s) equal a real row in every compared column "
        f"(allowed: {gate.max_exact_copies})")]
    unique = privacy["unique_value_copies"]
    checks.append(GateCheck(
        "copies of unique real values", "gate.max_unique_value_copies", float(unique["count"]),
        float(gate.max_unique_value_copies), unique["count"] <= gate.max_unique_value_copies,
        f"{unique['count']} synthetic cell(s) repeat a value only one real row holds, in "
        f"{', '.join(f'{c} ({n})' for c, n in unique['per_column'].items() if n) or 'no column'}"
        f" (allowed: {gate.max_unique_value_copies})"))
    for metric, key, bound in (
        ("new_row_synthesis", "gate.min_new_row_synthesis", gate.min_new_row_synthesis),
        ("dcr_baseline_protection", "gate.min_dcr_baseline_protection",
         gate.min_dcr_baseline_protection),
        ("dcr_overfitting_protection", "gate.min_dcr_overfitting_protection",
         gate.min_dcr_overfitting_protection),
    ):
        score = privacy[metric].get("score")
        label = LABELS[metric]
        if score is None:
            checks.append(GateCheck(label, key, None, bound, False,
                                    f"{label} could not be computed on this table"))
        else:
            checks.append(GateCheck(label, key, score, bound, score >= bound,
                                    f"{label} = {score:.3f} (must be >= {bound:g})"))
    return checks


def failed(checks: list[GateCheck]) -> list[GateCheck]:
    """The checks that did not pass."""
    return [check for check in checks if not check.passed]
