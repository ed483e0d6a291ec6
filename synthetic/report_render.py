"""``report.md`` and a self-contained ``report.html`` (inline CSS, no scripts, no links
to fetch) from the report dict of :mod:`synthetic.report`."""

from __future__ import annotations

import html
import json
from typing import Any

_PRIVACY_ROWS = (
    ("exact copies of real rows", "exact_copies", "count"),
    ("copies of values only one real row holds", "unique_value_copies", "count"),
    ("NewRowSynthesis", "new_row_synthesis", "score"),
    ("DCRBaselineProtection", "dcr_baseline_protection", "score"),
    ("DCROverfittingProtection", "dcr_overfitting_protection", "score"),
)


def to_json(report: dict[str, Any]) -> str:
    """``report.json``."""
    return json.dumps(report, indent=2, allow_nan=False) + "\n"


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _sections(report: dict[str, Any]) -> list[tuple[str, list[tuple[str, str]]]]:
    """(title, [(label, value)]) in reading order, shared by both renderings."""
    syn, data, gate = report["synthesizer"], report["data"], report["gate"]
    quality, privacy = report["quality"], report["privacy"]
    samples = privacy["samples"]
    outcome = ("released: the synthetic table and metadata were written" if report["released"]
               else "BLOCKED: only this report was written (exit code 4)")
    sections = [
        ("Outcome", [("result", outcome),
                     *([("warning", gate["warning"])] if gate["warning"] else []),
                     *([("gate", gate["note"])] if gate["note"] else [])]),
        ("Synthesizer", [(k, _fmt(v)) for k, v in syn.items()]),
        ("Data", [(k.replace("_", " "), _fmt(v)) for k, v in data.items()]),
        ("Release gate", [
            (check["name"], f"{_verdict(check['passed'], gate['advisory'])}: "
                            f"{check['reason']} [{check['key']}]") for check in gate["checks"]]),
        ("Quality (SDV)", [
            ("overall score", _fmt(quality["score"])),
            *[(name, _fmt(score)) for name, score in quality["properties"].items()],
            *[(f"diagnostic: {name}", _fmt(score))
              for name, score in quality["diagnostic"]["properties"].items()],
        ]),
        ("Privacy indicators (SDMetrics)", [
            *[(label, _fmt(privacy[key].get(field))) for label, key, field in _PRIVACY_ROWS],
            ("copies of rows unique in the real table",
             _fmt(privacy["exact_copies"]["of_unique_real_rows"])),
            ("median DCR synthetic / random",
             f"{_fmt(privacy['dcr_baseline_protection'].get('median_dcr_synthetic'))} / "
             f"{_fmt(privacy['dcr_baseline_protection'].get('median_dcr_random'))}"),
            ("synthetic rows closer to training / holdout",
             f"{_fmt(privacy['dcr_overfitting_protection'].get('closer_to_training'))} / "
             f"{_fmt(privacy['dcr_overfitting_protection'].get('closer_to_holdout'))}"),
            ("samples", _samples_line(samples, privacy["caps"])),
        ]),
        ("Metadata hygiene", [(k.replace("_", " "), _listed(v))
                              for k, v in report["metadata"].items()]),
    ]
    if report["dp"]:
        sections.append(("Differential privacy", [(k.replace("_", " "), _fmt(v))
                                                  for k, v in report["dp"].items()]))
    sections.append(("Timings (seconds)", [(k, f"{v:.2f}")
                                           for k, v in report["timings_s"].items()]))
    sections.append(("Statements", [("", s) for s in report["statements"]]))
    return sections


def _listed(value: Any) -> str:
    """A list or a name -> why mapping as one line ("none" when empty)."""
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v}" for k, v in value.items()) or "none"
    if isinstance(value, list):
        return ", ".join(value) or "none"
    return _fmt(value)


def _verdict(passed: bool, advisory: bool) -> str:
    if passed:
        return "pass"
    return "failed (advisory: DP release)" if advisory else "FAIL"


def _samples_line(samples: dict[str, Any], caps: dict[str, int]) -> str:
    text = (f"{samples['synthetic_rows']} of {samples['synthetic_rows_total']} synthetic rows; "
            f"{samples['training_reference_rows']} of {samples['training_rows_total']} training "
            f"rows as DCR reference; {samples['overfitting_rows_each']} training and "
            f"{samples['overfitting_rows_each']} of {samples['holdout_rows_total']} holdout rows "
            "for overfitting")
    if samples["subsampled"]:
        text += " (subsampled at random: " + ", ".join(f"{k}={v}" for k, v in caps.items()) + ")"
    return text


def to_markdown(report: dict[str, Any]) -> str:
    """``report.md``."""
    lines = [f"# privfl synth report: {report['synthesizer']['name']}", ""]
    for title, rows in _sections(report):
        lines += [f"## {title}", ""]
        if title == "Statements":
            lines += [f"- {text}" for _, text in rows]
        else:
            lines += ["| | |", "|---|---|"]
            lines += [f"| {_md(label)} | {_md(value)} |" for label, value in rows]
        lines.append("")
    shapes = report["quality"]["column_shapes"]
    if shapes:
        lines += ["## Column shapes", "", "| column | score |", "|---|---|"]
        lines += [f"| {_md(name)} | {_fmt(score)} |" for name, score in shapes.items()]
        lines.append("")
    return "\n".join(lines)


def _md(text: str) -> str:
    """``text`` for one Markdown table cell: HTML escaped (a column named ``<script>``
    stays text in any renderer), pipes escaped, on one line."""
    return html.escape(text, quote=False).replace("|", "\\|").replace("\n", " ")


_CSS = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
color:#222}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:1.6rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;width:100%}td{padding:.25rem .5rem;vertical-align:top;
border-bottom:1px solid #eee}td:first-child{width:40%;color:#555}
.ok{color:#176b2c;font-weight:600}.bad{color:#a31515;font-weight:600}
.bar{background:#eee;width:12rem;height:.7rem;display:inline-block;margin-right:.5rem}
.bar span{display:block;height:100%;background:#3b73b9}
.note{background:#fff6d6;padding:.5rem .75rem;border-left:4px solid #e0b000}
"""


def to_html(report: dict[str, Any]) -> str:
    """``report.html``: one file, readable offline."""
    esc = html.escape
    body = [f"<h1>privfl synth report: {esc(report['synthesizer']['name'])}</h1>"]
    for title, rows in _sections(report):
        body.append(f"<h2>{esc(title)}</h2>")
        if title == "Statements":
            body += [f'<p class="note">{esc(text)}</p>' for _, text in rows]
            continue
        body.append("<table>")
        for label, value in rows:
            css = "ok" if value.startswith(("pass", "released")) else (
                "bad" if value.startswith(("FAIL", "BLOCKED")) else "")
            cell = f'<span class="{css}">{esc(value)}</span>' if css else esc(value)
            body.append(f"<tr><td>{esc(label)}</td><td>{_bar(value)}{cell}</td></tr>")
        body.append("</table>")
    shapes = report["quality"]["column_shapes"]
    if shapes:
        body.append("<h2>Column shapes</h2><table>")
        body += [f"<tr><td>{esc(name)}</td><td>{_bar(_fmt(score))}{_fmt(score)}</td></tr>"
                 for name, score in shapes.items()]
        body.append("</table>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>privfl synth report</title><style>{_CSS}</style></head>\n<body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def _bar(value: str) -> str:
    """A bar for a score in [0, 1] (a plain value gets none)."""
    try:
        number = float(value)
    except ValueError:
        return ""
    if not 0 <= number <= 1 or "." not in value:
        return ""
    return f'<span class="bar"><span style="width:{number * 100:.0f}%"></span></span>'
