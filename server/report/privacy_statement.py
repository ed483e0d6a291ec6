"""The report's privacy statement: what is protected, by which mechanism, at which
(ε, δ), unit and accountant. Every number in it is copied from ``privacy.json``, written
exactly as that file holds it (so it can be checked against the file)."""

from __future__ import annotations

import json
from typing import Any

from server.report.document import Alert, Block, Items, Section, Table

SECTION_ID = "privacy-statement"
RECORD_COLUMNS = (
    ("run_epsilon", "ε added by this run"),
    ("lifetime_epsilon", "lifetime ε (whole ledger)"),
    ("delta", "δ"),
    ("budget", "lifetime budget ε"),
    ("remaining", "remaining ε"),
    ("noise_multiplier", "noise multiplier σ"),
    ("sample_rate", "sample rate q"),
    ("steps", "steps"),
)
SITE_LEVEL_COLUMNS = (
    ("epsilon", "ε spent"),
    ("target_epsilon", "target ε"),
    ("delta", "δ"),
    ("noise_multiplier", "noise multiplier"),
    ("clipping_norm", "clipping norm"),
    ("releases", "releases"),
)


def exact(value: Any) -> str:
    """A number as ``privacy.json`` writes it; a missing value as a dash."""
    return "—" if value is None else json.dumps(value, ensure_ascii=False)


def privacy_statement(privacy: dict[str, Any], secagg: str | None) -> Section:
    """The statement for the run whose ``privacy.json`` is ``privacy``; ``secagg`` is the
    configured secure aggregation (``config.yaml``), which is not differential privacy."""
    blocks: list[Block] = []
    if not privacy.get("private"):
        blocks.append(Alert(privacy.get("statement") or "NOT PRIVATE"))
    if privacy.get("accountant") is not None:
        blocks += _record_level(privacy)
    else:
        blocks.append("Record level: no protection. The sites trained without DP-SGD, so "
                      "each site's model updates carry its records without noise.")
    if privacy.get("site_level"):
        blocks += _site_level(privacy["site_level"], record_level=privacy.get("accountant")
                              is not None)
    if privacy.get("synthetic"):
        blocks += _synthetic(privacy["synthetic"])
    if secagg and secagg != "none":
        blocks.append(f"Secure aggregation (secagg={secagg}): the coordinator sees only the "
                      "sum of the sites' updates, never one site's update. It hides updates "
                      "from the coordinator; it is not differential privacy by itself.")
    blocks.append("Not covered by any ε (released without noise):")
    blocks.append(Items(tuple(privacy.get("uncovered_releases", ()))))
    blocks.append(f"The run's own statement (privacy.json): {privacy.get('statement', '')}")
    if privacy.get("source"):
        blocks.append(f"Source of the per-site numbers: {privacy['source']}.")
    return Section(SECTION_ID, "Privacy statement", tuple(blocks))


def _record_level(privacy: dict[str, Any]) -> list[Block]:
    sites = privacy.get("sites", {})
    reported = {name: site for name, site in sites.items() if site.get("run_epsilon") is not None}
    rows = tuple(
        (name, *(exact(site.get(key)) for key, _ in RECORD_COLUMNS),
         site.get("accountant") or "—", site.get("unit") or "—")
        for name, site in sites.items()
    )
    withheld = bool(privacy.get("site_epsilon_withheld"))
    silent = [] if withheld else sorted(set(sites) - set(reported))
    blocks: list[Block] = [
        Items((
            "Protected: each single record (row) of each site's training data, against "
            "everyone who receives what the site sends or anything computed from it: the "
            "coordinator, the other sites and whoever obtains the model.",
            "Mechanism: DP-SGD at each site (Opacus): per-sample gradients clipped, Gaussian "
            "noise added at every step, batches drawn by Poisson sampling; the noise is "
            "calibrated once for the whole planned run and every round is charged to the "
            "site's own ledger before it trains.",
            f"Unit: {privacy.get('unit')}. Accountant: {privacy.get('accountant')}. Target ε "
            f"per site for this run: {exact(privacy.get('target_epsilon_per_run'))}.",
            "Each site's ε is its own: the sites' ε are not added together.",
        )),
    ]
    if not withheld:
        blocks.append(Table(("site", *(label for _, label in RECORD_COLUMNS), "accountant",
                             "unit"), rows, caption="Record-level (ε, δ) per site"))
    else:
        blocks.append("Per-site ε withheld: under secure aggregation the sites answer only ok "
                      "or a refusal, because one site's q, σ or ε would reveal its row count. "
                      f"Each site calibrated its noise so that this run adds at most ε = "
                      f"{exact(privacy.get('target_epsilon_per_run'))} (at its own δ) to its "
                      "ledger, which it enforces itself; `privfl ledger` at the site shows "
                      "the exact spend.")
    if silent:
        blocks.append(f"No privacy report from {', '.join(silent)} (refused or never "
                      "trained): this run spent nothing of theirs that the coordinator knows "
                      "of; their ledgers are authoritative.")
    return blocks


def _site_level(site_level: dict[str, Any], *, record_level: bool) -> list[Block]:
    blocks: list[Block] = [
        Items((
            "Protected: the participation of one whole site (all its records together), "
            "against everyone who sees the global models. Not against the coordinator, which "
            "adds the noise.",
            f"Mechanism: {site_level.get('mechanism')}.",
            f"Unit: {site_level.get('unit')}. Accountant: {site_level.get('accountant')}. "
            f"Sampling: {site_level.get('sampling')}.",
        )),
        Table((*(label for _, label in SITE_LEVEL_COLUMNS), "accountant", "unit"),
              ((*(exact(site_level.get(key)) for key, _ in SITE_LEVEL_COLUMNS),
                str(site_level.get("accountant")), str(site_level.get("unit"))),),
              caption="Site-level (ε, δ) of the run"),
    ]
    if not site_level.get("private", True):
        blocks.insert(0, Alert("Site-level DP is NOT private in this run (seeded noise)."))
    if record_level:
        blocks.append("The record-level and the site-level ε have different units and are "
                      "never added.")
    return blocks


def _synthetic(synthetic: dict[str, Any]) -> list[Block]:
    rows = tuple(
        (site, str(facts.get("status")),
         "; ".join(f"{key}={exact(value) if isinstance(value, int | float) else value}"
                   for key, value in facts.items()
                   if key != "status" and not isinstance(value, dict | list)))
        for site, facts in synthetic.get("sites", {}).items()
    )
    blocks: list[Block] = [f"Synthetic publication ({synthetic.get('synthesizer')}): "
                           f"{synthetic.get('statement')}"]
    if rows:
        blocks.append(Table(("site", "status", "privacy facts"), rows,
                            caption="Published synthetic tables"))
    warm = synthetic.get("warm_start")
    if warm:
        blocks.append(f"Warm start: {warm.get('statement')}.")
    return blocks
