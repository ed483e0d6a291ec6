"""``privacy.json``: what each site spent, under which accountant, δ and unit."""

from __future__ import annotations

import dataclasses
from typing import Any

from conf.schema import ExperimentConfig
from server.roster import SiteRoster
from server.round_reporter import planned_epsilon_text
from server.strategies.site_level_dp import SiteLevelDP
from server.synthetic_pool import SyntheticPool
from server.warm_start import WarmStart

UNCOVERED_RELEASES = (
    "num-examples: each site's training row count (FedAvg weight) and local test row count",
    "train-loss, train-samples and clipped-samples: each site's mean training loss, rows "
    "drawn and DP-SGD per-sample gradients clipped per round (computed on real rows, no "
    "noise); with secure aggregation only their sums over the sites",
    "eval-loss and eval-accuracy: each site's metrics on its local test split per round",
    "preflight and refusal replies: site name, status and the reason for a refusal",
)


def privacy_summary(cfg: ExperimentConfig, roster: SiteRoster,
                    site_dp: SiteLevelDP | None = None,
                    synthetic: SyntheticPool | None = None,
                    warm: WarmStart | None = None) -> dict[str, Any]:
    """The JSON-able privacy record of a run: record-level ε per site (top level and
    ``sites``), with DP-FedAvg the run's site-level ε (``site_level``), and with
    federated publication what each site published (``synthetic``)."""
    dp = cfg.privacy.record_level
    published = {s.site: s for s in synthetic.published} if synthetic else {}
    return {
        "private": cfg.private,
        "mechanism": cfg.privacy.name,
        "unit": "record",
        "accountant": cfg.privacy.accountant if dp else None,
        "target_epsilon_per_run": cfg.privacy.epsilon if dp else None,
        "reproducible": cfg.reproducible,
        "site_epsilon_withheld": cfg.withholds_site_epsilon,
        "statement": _statement(cfg),
        "source": _source(cfg),
        "sites": {
            record.site: {
                **(dataclasses.asdict(record.privacy) if record.privacy else {}),
                "node_id": record.node_id,
                "rounds_trained": record.rounds_trained,
                "refusals": record.refusals,
                "failures": record.failures,
                "excluded": record.excluded,
                **({"synthesis": synthetic.privacy_record()["sites"][record.site]}
                   if record.site in published else {}),
            }
            for record in sorted(roster.sites.values(), key=lambda r: r.site)
        },
        "site_level": site_dp.report() if site_dp else None,
        "synthetic": _synthetic(synthetic, warm),
        "uncovered_releases": [*UNCOVERED_RELEASES,
                               *(synthetic.uncovered_releases() if synthetic else [])],
    }


def _synthetic(synthetic: SyntheticPool | None, warm: WarmStart | None) -> dict[str, Any] | None:
    if synthetic is None:
        return None
    record = synthetic.privacy_record()
    if warm is not None:
        record["warm_start"] = {
            "rows": warm.rows, "epochs": warm.epochs, "sites": warm.sites,
            "skipped": warm.skipped,
            "statement": ("the initial global model was trained at the coordinator on the "
                          "pooled synthetic table: post-processing of the published tables, "
                          "no further privacy cost"),
        }
    return record


def _source(cfg: ExperimentConfig) -> str:
    if cfg.withholds_site_epsilon:
        return ("under secure aggregation the sites report only ok or a refusal: one site's "
                "q, σ or ε would reveal its row count, so no per-site ε is known here; each "
                "site calibrated its noise so that this run adds at most "
                "target_epsilon_per_run to its own ledger, which is authoritative")
    return ("each site's ε is as the site last reported it after a successful round; a site "
            "that failed after its write-ahead charge may have spent more: its own ledger is "
            "authoritative")


def _statement(cfg: ExperimentConfig) -> str:
    if cfg.privacy.name == "none":
        return "NOT PRIVATE: privacy=none, sites trained without differential privacy."
    if cfg.reproducible:
        return ("NOT PRIVATE: reproducible=true seeded the DP noise and sampling from the "
                "config seed, so anyone with the config can regenerate them.")
    parts = []
    if cfg.privacy.record_level:
        if cfg.withholds_site_epsilon:
            parts.append(f"Record-level DP-SGD at each site: {planned_epsilon_text(cfg)}; "
                         "(ε, δ)-DP for one record of that site's data.")
        else:
            parts.append(f"Record-level DP-SGD at each site: each site's ε below is (ε, δ)-DP "
                         f"for one record of that site's data, accountant="
                         f"{cfg.privacy.accountant}, lifetime ε composes every event in the "
                         "site's ledger.")
    else:
        parts.append("No record-level DP at the sites (they trained without DP-SGD).")
    if cfg.privacy.site_level:
        client = cfg.privacy.client
        parts.append(f"Site-level DP-FedAvg: site_level.epsilon is (ε, δ={client.delta:g})-DP "
                     f"for the participation of one whole site, accountant="
                     f"{cfg.privacy.accountant}, against everyone who sees the models; the "
                     "coordinator adds the noise, so it is not protected from the coordinator "
                     "itself (secure aggregation limits what the coordinator sees to the sum).")
    if cfg.privacy.record_level and cfg.privacy.site_level:
        parts.append("The two ε have different units and are never added.")
    if cfg.synthetic.charged and cfg.privacy.record_level:
        parts.append(f"Each site's DP synthetic table (dp_mst, ε={cfg.synthetic.epsilon:g} "
                     "alone) is inside that site's ε for this run: DP-SGD was calibrated so "
                     f"that both compose to at most privacy.epsilon={cfg.privacy.epsilon:g}.")
    return " ".join(parts)
