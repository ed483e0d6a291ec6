"""Writing reports: ``report.html`` (self-contained), ``report.md`` and its charts in
``report-plots/``, for one run or for a sweep (``privfl report DIR`` picks which)."""

from __future__ import annotations

import logging
from pathlib import Path

from privacy.atomic import atomic_write_text
from server.report.audit_section import audit_section
from server.report.document import Document
from server.report.html import render_html
from server.report.markdown import PLOTS, figure_path, render_markdown
from server.report.model_card import model_card
from server.report.plots import run_figures
from server.report.privacy_statement import privacy_statement
from server.report.record import REQUIRED, RunDirError, RunRecord, is_run_dir, load_run
from server.report.sections import configuration, participation, results, summary
from server.report.svg import standalone
from server.report.sweep import MULTIRUN, is_sweep_dir, load_members, sweep_document

log = logging.getLogger("privfl")

HTML, MARKDOWN = "report.html", "report.md"


def run_document(run: RunRecord) -> Document:
    """The report of one run."""
    secagg = (run.config.get("secagg") or {}).get("name")
    sections = (
        summary(run),
        results(run, run_figures(run)),
        privacy_statement(run.privacy, secagg),
        audit_section(run),
        participation(run),
        model_card(run),
        configuration(run),
    )
    return Document(f"privfl run report: {run.path.name}",
                    f"{run.outcome.get('status', 'unknown')} run in {run.path}", sections)


def write_report(path: Path) -> Path:
    """Write the report of the run or sweep at ``path``; returns ``report.html``.

    RunDirError if ``path`` is neither a run directory nor a folder of run directories.
    """
    path = Path(path)
    if is_run_dir(path):
        return write_document(path, run_document(load_run(path)))
    if is_sweep_dir(path):
        return write_document(path, sweep_document(path, load_members(path)))
    if not path.is_dir():
        raise RunDirError(f"{path} is not a directory; give a run directory "
                          "(runs/<date>/<time>) or a sweep directory (runs/multirun/<date>/<time>)")
    raise RunDirError(f"{path} is neither a privfl run directory (no {' and '.join(REQUIRED)}) "
                      f"nor a sweep directory (no {MULTIRUN}); give a run directory "
                      "(runs/<date>/<time>) or a sweep directory (runs/multirun/<date>/<time>)")


def write_document(folder: Path, doc: Document) -> Path:
    """Write ``doc`` as ``report.md`` (+ ``report-plots/*.svg``) and ``report.html``."""
    plots = folder / PLOTS
    if doc.figures:
        plots.mkdir(exist_ok=True)
    for figure in doc.figures:
        atomic_write_text(folder / figure_path(figure), standalone(figure.svg))
    atomic_write_text(folder / MARKDOWN, render_markdown(doc))
    atomic_write_text(folder / HTML, render_html(doc))
    return folder / HTML


def write_report_safely(path: Path) -> Path | None:
    """:func:`write_report` for the end of a run or sweep: a failure is logged as a warning
    and never fails what already ran (``privfl report DIR`` rebuilds it later)."""
    try:
        return write_report(path)
    except Exception as err:
        log.warning("could not write the report in %s: %s: %s; rebuild it with "
                    "`privfl report %s`", path, type(err).__name__, err, path)
        return None
