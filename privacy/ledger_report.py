"""Human and machine readable views of a site's ledger (``privfl ledger PATH``)."""

from collections.abc import Iterable
from typing import Any

from privacy.accountants import epsilon_of
from privacy.ledger import Ledger, LedgerEntry
from privacy.ledger_file import UNIT


def ledger_summary(ledger: Ledger) -> dict[str, Any]:
    """JSON-able facts of ``ledger``: settings, ε spent and remaining, and one row per run.

    Each run lists its charged rounds (0 = a release outside rounds), mechanisms, the
    distinct σ and q it used, its total steps, and ``epsilon``: the ε of its charges alone.
    """
    runs: dict[str, list[LedgerEntry]] = {}
    for entry in ledger.entries:
        runs.setdefault(entry.event.run_id, []).append(entry)
    return {
        "site": ledger.site,
        "path": str(ledger.path),
        "unit": UNIT,
        "delta": ledger.delta,
        "accountant": ledger.accountant,
        "budget": ledger.budget,
        "spent": ledger.spent(),
        "remaining": ledger.remaining(),
        "created": ledger.created,
        "charges": len(ledger.entries),
        "sealed_with": str(ledger.key_path),
        "unreleased": [{**_event_id(entry), "charged_at": entry.charged_at}
                       for entry in ledger.unreleased()],
        "runs": [_run_summary(ledger, run_id, entries) for run_id, entries in runs.items()],
    }


def _run_summary(ledger: Ledger, run_id: str, entries: list[LedgerEntry]) -> dict[str, Any]:
    history = [h for entry in entries for h in entry.event.accountant_history()]
    return {
        "run_id": run_id,
        "rounds": sorted({entry.event.round for entry in entries}),
        "mechanisms": _unique(entry.event.mechanism for entry in entries),
        "noise_multipliers": _unique(sigma for sigma, _, _ in history),
        "sample_rates": _unique(q for _, q, _ in history),
        "steps": sum(steps for _, _, steps in history),
        "epsilon": ledger.run_epsilon(run_id),
        "seeded_noise": any(getattr(entry.event, "seeded_noise", False) for entry in entries),
        "first_charged_at": entries[0].charged_at,
        "last_charged_at": entries[-1].charged_at,
    }


def _event_id(entry: LedgerEntry) -> dict[str, Any]:
    event = entry.event
    return {"run_id": event.run_id, "round": event.round, "mechanism": event.mechanism}


def _unique(values: Iterable[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


def format_ledger(ledger: Ledger) -> str:
    """A printable report: settings, ε spent and remaining, then the history by run."""
    s = ledger_summary(ledger)
    unit = f"({s['accountant']}, δ={s['delta']:g}, unit={s['unit']})"
    lines = [
        f"privacy ledger of site {s['site']!r}",
        f"  file             {s['path']} (chain and seal verified with {s['sealed_with']})",
        f"  unit             {s['unit']} (record-level DP)",
        f"  δ                {s['delta']:g}",
        f"  accountant       {s['accountant']}",
        f"  lifetime budget  ε {s['budget']:.4g} {unit}",
        f"  ε spent          {s['spent']:.4g} {unit}",
        f"  ε remaining      {s['remaining']:.4g} {unit}",
        "",
    ]
    if not s["runs"]:
        return "\n".join([*lines, "history: no charges yet", ""])
    header = ["run id", "rounds charged", "mechanism", "σ", "q", "steps", f"ε run alone {unit}"]
    rows = [
        [
            run["run_id"],
            str(sum(1 for r in run["rounds"] if r > 0)),
            ", ".join(run["mechanisms"]),
            ", ".join(f"{x:.4g}" for x in run["noise_multipliers"]),
            ", ".join(f"{x:.4g}" for x in run["sample_rates"]),
            str(run["steps"]),
            f"{run['epsilon']:.4g}",
        ]
        for run in s["runs"]
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    table = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]
    title = f"history: {s['charges']} charge(s) in {len(rows)} run(s)"
    seeded = [f"WARNING: run {run['run_id']} used seeded noise (reproducible=true): its "
              "releases are NOT private" for run in s["runs"] if run["seeded_noise"]]
    return "\n".join([*lines, title, *table, *seeded, *_unreleased_lines(s["unreleased"]), ""])


def _unreleased_lines(unreleased: list[dict[str, Any]]) -> list[str]:
    """Charges whose result never left the site: counted in ε spent all the same."""
    if not unreleased:
        return ["unreleased charges: none"]
    return [f"unreleased charges: {len(unreleased)} (charged, but the result never left the "
            "site: a crash or a refusal after the charge; counted in the spent total, a retry "
            "of the same round trains under the same charge)",
            *(f"  run {u['run_id']} round {u['round']} {u['mechanism']}, charged "
              f"{u['charged_at']}" for u in unreleased)]


def run_epsilon_by_round(ledger: Ledger, run_id: str) -> dict[int, float]:
    """ε of run ``run_id``'s charges up to and including each round it charged.

    Round 0 (a release outside rounds, such as a DP synthetic table) counts from the
    start. Charges are write-ahead, so a round that failed after its charge is included.
    """
    events = [event for event in ledger.events if event.run_id == run_id]
    return {
        server_round: epsilon_of([e for e in events if e.round <= server_round], ledger.delta,
                                 ledger.accountant)
        for server_round in sorted({event.round for event in events})
    }
