"""The run report's charts: accuracy and loss per round, ε per site per round."""

from __future__ import annotations

import statistics

from server.report.document import Figure
from server.report.record import RunRecord
from server.report.svg import Series, line_chart

MAX_SITE_LINES = 8
"""With more sites the ε chart shows the lowest, median and highest site per round."""
ACCURACY_ID, LOSS_ID, EPSILON_ID, SITE_LEVEL_ID = (
    "plot-accuracy", "plot-loss", "plot-epsilon", "plot-site-level-epsilon")


def run_figures(run: RunRecord) -> list[Figure]:
    """Accuracy and loss (when the server evaluated), then the ε charts (with DP)."""
    figures = []
    if any(row.get("accuracy") is not None for row in run.rows):
        figures += [_quality(run, "accuracy", ACCURACY_ID, (0.0, 1.0)),
                    _quality(run, "loss", LOSS_ID, None)]
    if run.epsilon.by_site:
        figures.append(_record_epsilon(run))
    if run.epsilon.site_level:
        figures.append(_site_level_epsilon(run))
    return figures


def epsilon_label(run: RunRecord) -> str:
    """``rdp, δ=1e-05, unit=record`` for the record-level ε of ``run``."""
    deltas = {site.get("delta") for site in run.privacy.get("sites", {}).values()} - {None}
    delta = f"δ={deltas.pop():g}" if len(deltas) == 1 else "δ per site"
    return f"{run.privacy.get('accountant')}, {delta}, unit={run.privacy.get('unit')}"


def _quality(run: RunRecord, metric: str, chart_id: str,
             y_range: tuple[float, float] | None) -> Figure:
    series = [Series("server held-out set",
                     tuple((row["round"], row[metric]) for row in run.rows
                           if row.get(metric) is not None))]
    federated = tuple((row["round"], value) for row in run.rows
                      if (value := (row.get("federated_evaluation") or {}).get(f"eval-{metric}"))
                      is not None)
    if federated:
        series.append(Series("sites' test splits", federated,
                             dashed=True))
    title = f"{metric.capitalize()} per round"
    svg = line_chart(chart_id, title, "round", metric, series, y_range=y_range, integer_x=True)
    return Figure(chart_id.removeprefix("plot-"), svg,
                  f"{title} of the global model, on the server's held-out set and on the "
                  "sites' local test splits.")


def _record_epsilon(run: RunRecord) -> Figure:
    by_site = run.epsilon.by_site
    if len(by_site) <= MAX_SITE_LINES:
        series = [Series(site, tuple(sorted(rounds.items()))) for site, rounds in by_site.items()]
        shown = "one line per site"
    else:
        rounds = sorted({r for per_round in by_site.values() for r in per_round})
        values = {r: [per_round[r] for per_round in by_site.values() if r in per_round]
                  for r in rounds}
        series = [Series(name, tuple((r, f(values[r])) for r in rounds))
                  for name, f in (("highest site", max), ("median site", statistics.median),
                                  ("lowest site", min))]
        shown = f"lowest, median and highest of {len(by_site)} sites"
    label = epsilon_label(run)
    title = f"Record-level ε per site per round ({label})"
    svg = line_chart(EPSILON_ID, title, "round", "ε added by this run", series, integer_x=True)
    return Figure("epsilon", svg,
                  f"{title}: ε added by this run after each round ({shown}; source: "
                  f"{run.epsilon.source}).")


def _site_level_epsilon(run: RunRecord) -> Figure:
    site_level = run.privacy.get("site_level") or {}
    label = f"{site_level.get('accountant')}, δ={site_level.get('delta')}, unit=site"
    title = f"Site-level ε per round ({label})"
    svg = line_chart(SITE_LEVEL_ID, title, "round", "ε",
                     [Series("DP-FedAvg (coordinator)",
                             tuple(sorted(run.epsilon.site_level.items())))], integer_x=True)
    return Figure("site-level-epsilon", svg,
                  f"{title}: the coordinator's DP-FedAvg ε after each release; "
                  "never added to the record-level ε.")
