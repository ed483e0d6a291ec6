"""The empirical privacy audit's result as the report reads it from ``audit.json``.

The audit (issue 6, part 3) writes ``RUN_DIR/audit.json``; the report states the attack,
the number of canaries and the confidence level next to the claimed ε. These are the
keys the report needs; a file without them is reported as unreadable, never guessed.
``claimed_epsilon`` and ``accountant`` are null when the audited training claimed no DP.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

AUDIT_FILE = "audit.json"


@dataclass(frozen=True)
class AuditResult:
    """What ``audit.json`` must hold (extra keys are kept in ``extra``)."""

    attack: str
    canaries: int
    confidence: float
    epsilon_lower_bound: float
    claimed_epsilon: float | None
    delta: float
    accountant: str | None
    unit: str
    extra: tuple[tuple[str, Any], ...] = ()


AUDIT_KEYS = tuple(f.name for f in fields(AuditResult) if f.name != "extra")
NULLABLE = ("claimed_epsilon", "accountant")
"""Null when the audited training claimed no DP (a non-private run's audit)."""


def load_audit(run_dir: Path) -> AuditResult | str | None:
    """The audit result, None without ``audit.json``, or a one-line problem if unreadable."""
    path = run_dir / AUDIT_FILE
    if not path.is_file():
        return None
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        return f"{AUDIT_FILE} could not be read: {err}"
    if not isinstance(raw, dict):
        return f"{AUDIT_FILE} is not a JSON object"
    missing = [key for key in AUDIT_KEYS
               if key not in raw or (raw[key] is None and key not in NULLABLE)]
    if missing:
        return f"{AUDIT_FILE} lacks {', '.join(missing)}"
    extra = tuple((k, v) for k, v in raw.items() if k not in AUDIT_KEYS)
    return AuditResult(**{key: raw[key] for key in AUDIT_KEYS}, extra=extra)
