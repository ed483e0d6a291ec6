"""The short summary printed (and saved as ``summary.txt``) at the end of a run."""

from __future__ import annotations

from typing import Any

from conf.schema import ExperimentConfig
from server.roster import SiteRoster
from server.round_reporter import epsilon_label, planned_epsilon_text
from server.strategies.site_level_dp import SiteLevelDP
from server.synthetic_pool import POOLED, SyntheticPool
from server.warm_start import WarmStart


def summary_text(cfg: ExperimentConfig, rows: list[dict[str, Any]], roster: SiteRoster,
                 site_dp: SiteLevelDP | None, outcome: dict[str, Any],
                 timing: dict[str, Any], synthetic: SyntheticPool | None = None,
                 warm: WarmStart | None = None) -> str:
    """A few lines: outcome, final metrics, privacy spent, participation, files."""
    status = outcome["status"] + (f" ({outcome['reason']})" if outcome["reason"] else "")
    lines = [f"privfl run {status}: {len(rows)}/{cfg.rounds} rounds, task={cfg.task.name}, "
             f"strategy={cfg.strategy.name}, {len(roster.sites)} sites; preflight (incl. "
             f"site start-up) {timing['preflight_seconds']:.1f} s, rounds "
             f"{timing['rounds_seconds']:.1f} s"]
    if rows and rows[-1]["accuracy"] is not None:
        last = rows[-1]
        lines.append(f"final global accuracy {last['accuracy']:.4f}, loss {last['loss']:.4f} "
                     "(server held-out test set)")
    reports = roster.reports()
    if cfg.privacy.name == "none":
        lines.append("privacy: none (NOT private)")
    elif reports:
        run_eps = [r.run_epsilon for r in reports]
        top = max(reports, key=lambda r: r.lifetime_epsilon)
        labels = {epsilon_label(r.accountant, r.delta, r.unit) for r in reports}
        label = labels.pop() if len(labels) == 1 else "per site, see privacy.json"
        lines.append(f"privacy: ε added by this run per site {min(run_eps):.3f}..{max(run_eps):.3f}"
                     f", lifetime ε up to {top.lifetime_epsilon:.3f} ({label})")
    elif cfg.withholds_site_epsilon:
        lines.append(f"privacy: {planned_epsilon_text(cfg)}; each site's ledger holds its "
                     "own (privfl ledger)")
    if site_dp is not None:
        plan = site_dp.plan
        lines.append(f"privacy: site-level ε {site_dp.epsilon:.3f} over {len(site_dp.events)} "
                     f"releases ({epsilon_label(plan.accountant, plan.delta, 'site')}; "
                     f"DP-FedAvg, noise multiplier {plan.noise_multiplier:.3f}, clipping norm "
                     f"{plan.clipping_norm:g}); not added to any record-level ε")
    if synthetic is not None:
        syn = cfg.synthetic
        privacy = (f"dp_mst, ε={syn.epsilon:g} per site inside its record-level ε" if syn.private
                   else f"{syn.synthesizer}, NOT differentially private")
        lines.append(f"synthetic: {len(synthetic.table)} rows from {len(synthetic.published)} "
                     f"sites ({privacy}) in {POOLED}")
    if warm is not None:
        lines.append(warm.summary())
    if cfg.reproducible and cfg.privacy.name != "none":
        lines.append("WARNING: reproducible=true seeded the DP noise: this run is NOT private")
    excluded = [s for s in roster.sites.values() if not s.usable]
    for s in sorted(excluded, key=lambda s: s.site):
        lines.append(f"excluded {s.site}: {s.excluded}")
    lines.append(f"outputs: {cfg.output_dir}")
    return "\n".join(lines) + "\n"
