"""ε per site per round for the report's plot.

The sites' ledgers are the source of truth (charged write-ahead, so a round that failed
after its charge counts); ε is recomputed from them by the ledger's own accountant
(:func:`privacy.ledger_report.run_epsilon_by_round`). A coordinator without the ledgers
(deployment: they stay at the sites) falls back to ``metrics.jsonl``: each site's ε as it
last reported it (``site_run_epsilon``), or in older runs the highest site's ε. Under
secure aggregation the sites withhold their ε (``privacy.json``'s
``site_epsilon_withheld``), and the report plots none, even where it could read ledgers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conf.errors import PrivflError
from conf.site import SiteSettings
from privacy.ledger import Ledger
from privacy.ledger_report import run_epsilon_by_round

log = logging.getLogger("privfl")

LEDGERS = "the sites' ledgers"
REPORTED = "metrics.jsonl (each site's ε as it last reported it)"
METRICS = "metrics.jsonl (the highest site's ε each round)"


@dataclass(frozen=True)
class SiteEpsilon:
    """Record-level ε added by this run, per site and round; site-level ε per round."""

    by_site: dict[str, dict[int, float]] = field(default_factory=dict)
    source: str | None = None
    site_level: dict[int, float] = field(default_factory=dict)


def site_epsilon(run_dir: Path, privacy: dict[str, Any], outcome: dict[str, Any],
                 rows: list[dict[str, Any]]) -> SiteEpsilon:
    """ε per site per round from the ledgers, else from ``rows``; empty without DP."""
    site_level = {r["round"]: r["site_epsilon"] for r in rows
                  if r.get("round", 0) >= 1 and r.get("site_epsilon") is not None}
    if privacy.get("accountant") is None or privacy.get("site_epsilon_withheld"):
        return SiteEpsilon(site_level=site_level)  # withheld: no per-site ε leaves a site
    from_ledgers = _from_ledgers(run_dir, set(privacy.get("sites", {})), outcome.get("run_id"))
    if from_ledgers:
        return SiteEpsilon(from_ledgers, LEDGERS, site_level)
    reported = _reported(rows)
    if reported:
        return SiteEpsilon(reported, REPORTED, site_level)
    highest = {r["round"]: r["max_run_epsilon"] for r in rows
               if r.get("round", 0) >= 1 and r.get("max_run_epsilon") is not None}
    return SiteEpsilon({"highest site": highest} if highest else {},
                       METRICS if highest else None, site_level)


def _from_ledgers(run_dir: Path, sites: set[str], run_id: str | None
                  ) -> dict[str, dict[int, float]]:
    """Per site of this run whose ledger the run directory points to (simulation)."""
    found: dict[str, dict[int, float]] = {}
    for settings_path in sorted((run_dir / "sites").glob("*.json")):
        try:
            settings = SiteSettings.read(settings_path)
            ledger = Ledger.load(settings.ledger_path, settings.ledger_key_path)
        except PrivflError as err:
            log.warning("report: skipping the ledger of %s: %s", settings_path.name, err)
            continue
        if ledger.site not in sites:
            continue
        runs = list(dict.fromkeys(event.run_id for event in ledger.events))
        this_run = run_id if run_id is not None else (runs[0] if len(runs) == 1 else None)
        if this_run in runs:
            found[ledger.site] = run_epsilon_by_round(ledger, this_run)
    return dict(sorted(found.items(), key=lambda item: _site_order(item[0])))


def _reported(rows: list[dict[str, Any]]) -> dict[str, dict[int, float]]:
    """Per site, from the rows' ``site_run_epsilon`` (site -> ε)."""
    found: dict[str, dict[int, float]] = {}
    for row in rows:
        for site, eps in (row.get("site_run_epsilon") or {}).items():
            if row.get("round", 0) >= 1 and eps is not None:
                found.setdefault(site, {})[row["round"]] = eps
    return dict(sorted(found.items(), key=lambda item: _site_order(item[0])))


def _site_order(site: str) -> tuple[str, int]:
    """``site-2`` before ``site-10``."""
    stem, _, number = site.rpartition("-")
    return (stem, int(number)) if number.isdigit() else (site, -1)
