"""The run report's sections other than the privacy statement and the model card:
summary, results per round, participation, configuration."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from server.report.audit import AuditResult
from server.report.document import Alert, Block, Figure, Section, Table
from server.report.plots import epsilon_label
from server.report.record import RunRecord


def fmt(value: Any, digits: int = 4) -> str:
    """A rounded number for tables and prose (the privacy statement prints exact ones)."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def headline_epsilon(run: RunRecord) -> str:
    """``ε added by this run per site 2.993 to 2.996 (rdp, δ=1e-05, unit=record)``, or why
    there is none."""
    if not run.record_level:
        return "none (NOT private at record level)"
    spent = [s["run_epsilon"] for s in run.privacy.get("sites", {}).values()
             if s.get("run_epsilon") is not None]
    if run.privacy.get("site_epsilon_withheld"):
        return (f"ε ≤ {run.privacy.get('target_epsilon_per_run')} per site for the whole run, "
                f"as planned ({run.privacy.get('accountant')}, δ as each site set it, "
                "unit=record; per-site spend withheld under secure aggregation)")
    if not spent:
        return "no site reported an ε"
    return (f"ε added by this run per site {min(spent):.3f} to {max(spent):.3f} "
            f"({epsilon_label(run)})")


def summary(run: RunRecord) -> Section:
    """Outcome, what ran, final quality, privacy spent, time."""
    cfg, outcome = run.config, run.outcome
    blocks: list[Block] = [Alert(a) for a in _alerts(run)]
    status = outcome.get("status", "unknown")
    if outcome.get("reason"):
        status += f" ({outcome['reason']})"
    final = run.final or {}
    site_level = run.privacy.get("site_level")
    facts = [
        ("outcome", status),
        ("rounds", f"{outcome.get('rounds_completed', len(run.rows))} of "
                   f"{cfg.get('rounds', '?')} planned"),
        ("task", str(_get(cfg, "task.name"))),
        ("strategy", str(_get(cfg, "strategy.name"))),
        ("sites", f"{len(run.privacy.get('sites', {}))} took part in preflight"),
        ("secure aggregation", str(_get(cfg, "secagg.name"))),
        ("privacy mechanism", str(run.privacy.get("mechanism"))),
        ("record-level privacy", headline_epsilon(run)),
    ]
    if site_level:
        facts.append(("site-level privacy",
                      f"ε {site_level['epsilon']:.3f} ({site_level['accountant']}, "
                      f"δ={site_level['delta']:g}, unit=site)"))
    if isinstance(run.audit, AuditResult):
        facts.append(("empirical audit", f"ε lower bound {run.audit.epsilon_lower_bound:.3f} "
                                         f"({run.audit.attack}, {run.audit.canaries} canaries, "
                                         f"confidence {run.audit.confidence:g})"))
    facts += [
        ("final accuracy", fmt(final.get("accuracy")) + " (server held-out set)"),
        ("final loss", fmt(final.get("loss"))),
        ("time", f"preflight {fmt(run.timing.get('preflight_seconds'), 3)} s, rounds "
                 f"{fmt(run.timing.get('rounds_seconds'), 3)} s"),
    ]
    blocks.append(Table(("", ""), tuple(facts)))
    return Section("summary", "Summary", tuple(blocks))


def results(run: RunRecord, figures: list[Figure]) -> Section:
    """The charts and one row per round (with traffic when the rows count it)."""
    traffic = any(row.get("bytes_sent") is not None for row in run.rows)
    rows = tuple(
        (str(row["round"]), fmt(row.get("accuracy")), fmt(row.get("loss")),
         f"{fmt(row.get('max_run_epsilon'))} ({row.get('epsilon_site') or '—'})",
         fmt(row.get("site_epsilon")), f"{row.get('sites_trained')}/{row.get('sites_sampled')}",
         ", ".join(f"{e['site']} ({e.get('stage', '?')})" for e in _left_out(row)) or "—",
         *((f"{_bytes(row.get('bytes_sent'))} / {_bytes(row.get('bytes_received'))}",)
           if traffic else ()),
         fmt(row.get("round_seconds"), 3))
        for row in run.rows
    )
    header = ("round", "accuracy", "loss", "highest record-level ε (site)", "site-level ε",
              "trained/sampled", "left out", *(("sent / received",) if traffic else ()),
              "seconds")
    blocks: list[Block] = list(figures)
    if run.warm_start:
        warm = run.warm_start
        blocks.append(f"Round 0, warm start on the pooled synthetic table: held-out accuracy "
                      f"{fmt(warm.get('accuracy_before_warm_start'))} before, "
                      f"{fmt(warm.get('accuracy'))} after.")
    if not run.record_level:
        blocks.append("No record-level ε per round: the sites trained without DP-SGD.")
    if run.epsilon.by_site:
        blocks.append("The table names the site with the highest record-level ε after each "
                      f"round ({epsilon_label(run)}).")
    blocks.append(Table(header, rows, caption="Per round (metrics.jsonl)"))
    if not run.rows:
        blocks.append("No round finished: the run has no per-round results.")
    return Section("results", "Results per round", tuple(blocks))


def participation(run: RunRecord) -> Section:
    """Per site: rounds trained, refusals, dropouts, exclusion."""
    rows = tuple(
        (name, str(site.get("rounds_trained", 0)), str(site.get("refusals", 0)),
         str(site.get("failures", 0)), site.get("excluded") or "—")
        for name, site in run.privacy.get("sites", {}).items()
    )
    blocks: list[Block] = [
        Table(("site", "rounds trained", "refusals", "dropouts (failed rounds)",
               "excluded (reason)"), rows, caption="Participation per site (privacy.json)"),
    ]
    preflight = run.privacy.get("preflight") or []
    if preflight:
        blocks.append(Table(("site", "stage", "kind", "reason"),
                            tuple((p.get("site", "?"), p.get("stage", "?"), p.get("kind", "?"),
                                   p.get("reason", "")) for p in preflight),
                            caption="Refusals before round 1"))
    else:
        blocks.append("No site refused in preflight.")
    return Section("participation", "Participation", tuple(blocks))


def configuration(run: RunRecord) -> Section:
    """The resolved config and the package versions."""
    blocks: list[Block] = []
    if run.config:
        blocks.append(Table(("key", "value"), tuple(_flatten(run.config)),
                            caption="Resolved configuration (config.yaml)"))
    else:
        blocks.append("No config.yaml in the run directory.")
    packages = run.manifest.get("packages") or {}
    if packages:
        blocks.append(Table(("package", "version"), tuple(packages.items()),
                            caption="Packages (manifest.json)"))
    if run.manifest.get("config_sha256"):
        blocks.append(f"SHA-256 of the run config: {run.manifest['config_sha256']}.")
    return Section("configuration", "Configuration", tuple(blocks))


def _alerts(run: RunRecord) -> Iterator[str]:
    if not run.privacy.get("private"):
        yield run.privacy.get("statement") or "NOT PRIVATE"
    if run.outcome.get("status") not in (None, "finished"):
        yield (f"The run {run.outcome['status']} after {run.outcome.get('rounds_completed', 0)}"
               f" rounds: {run.outcome.get('reason')}")


def _bytes(count: int | None) -> str:
    """``1.2 MB`` (decimal units)."""
    if count is None:
        return "—"
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= size:
            return f"{count / size:.3g} {unit}"
    return f"{count} B"


def _left_out(row: dict[str, Any]) -> list[dict[str, Any]]:
    return [*(row.get("failed") or []), *(row.get("refused") or [])]


def _get(cfg: dict[str, Any], dotted: str) -> Any:
    value: Any = cfg
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from _flatten(item, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, fmt(value, 6) if not isinstance(value, list) else str(value)
