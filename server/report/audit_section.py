"""The report's audit section: the empirical lower bound next to the claimed ε."""

from __future__ import annotations

from server.report.audit import AUDIT_FILE, AuditResult
from server.report.document import Alert, Block, Section, Table
from server.report.record import RunRecord
from server.report.sections import fmt, headline_epsilon

SECTION_ID = "privacy-audit"


def audit_section(run: RunRecord) -> Section:
    """What the audit found, or that there was none (or that its file is unreadable)."""
    audit = run.audit
    if audit is None:
        blocks: tuple[Block, ...] = (
            f"No empirical audit for this run (no {AUDIT_FILE}): the ε in the privacy "
            "statement is the accountant's upper bound, not a measurement.",)
    elif isinstance(audit, str):
        blocks = (Alert(f"The audit result cannot be shown: {audit}."),)
    else:
        blocks = _result(run, audit)
    return Section(SECTION_ID, "Privacy audit", blocks)


def _result(run: RunRecord, audit: AuditResult) -> tuple[Block, ...]:
    label = f"{audit.accountant}, δ={audit.delta:g}, unit={audit.unit}"
    claimed = (f"{fmt(audit.claimed_epsilon)} ({label})" if audit.claimed_epsilon is not None
               else f"none: the audited training claimed no DP (δ={audit.delta:g}, "
                    f"unit={audit.unit})")
    facts = [
        ("attack", audit.attack),
        ("canaries", str(audit.canaries)),
        ("confidence level", f"{audit.confidence:g}"),
        ("empirical ε lower bound", fmt(audit.epsilon_lower_bound)),
        ("claimed ε (audit.json)", claimed),
        ("claimed ε (privacy.json)", headline_epsilon(run)),
        *((key, str(value)) for key, value in audit.extra
          if isinstance(value, str | int | float | bool)),
    ]
    return (
        f"Attack: {audit.attack}, with {audit.canaries} canaries; the lower bound holds with "
        f"confidence {audit.confidence:g}.",
        Table(("", ""), tuple(facts), caption=f"Empirical audit ({AUDIT_FILE})"),
        _verdict(audit),
    )


def _verdict(audit: AuditResult) -> Block:
    """What the bound says about the claim."""
    bound = fmt(audit.epsilon_lower_bound)
    if audit.claimed_epsilon is None:
        return (f"No DP was claimed: the bound shows that the training leaks at least ε {bound} "
                "about its records.")
    claimed = fmt(audit.claimed_epsilon)
    if audit.epsilon_lower_bound <= audit.claimed_epsilon:
        return (f"The measured lower bound ({bound}) does not exceed the claimed ε ({claimed}): "
                "the audit is consistent with the claim (it can refute a claim, never prove it).")
    return Alert(f"The measured lower bound ({bound}) EXCEEDS the claimed ε ({claimed}): the "
                 "accounting or the implementation is wrong; do not rely on this run's ε.")
