"""``privfl synth`` from a validated config: read, prepare metadata, hold out, (charge,)
fit, sample, measure, gate, and write the output folder all at once.

Exit codes: 0 released, 2 bad input (nothing written), 4 the release gate refused (only
the report was written; ``force=true`` overrides).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from conf.synth_schema import SynthConfig
from synthetic import metadata as md
from synthetic.errors import SynthDataError
from synthetic.gate import EXIT_BLOCKED, failed, gate_checks
from synthetic.identifying import identifying_columns
from synthetic.privacy_checks import privacy_checks
from synthetic.progress import Progress, quiet_library_loggers
from synthetic.quality import quality
from synthetic.release import (
    RELEASE_MANIFEST,
    REPORTS,
    check_out_free,
    release_manifest,
    write_folder,
)
from synthetic.report import build_report
from synthetic.report_render import to_html, to_json, to_markdown
from synthetic.synthesizers import SYNTHESIZERS, MstSynthesizer, SdvSynthesizer, Synthesizer
from synthetic.table_io import check_suffix, read_table, write_table

MIN_HOLDOUT_ROWS = 20
"""Fewest held-out rows DCROverfittingProtection is computed on."""


@dataclass(frozen=True)
class SynthOutcome:
    """What a run did: its exit code, release and review folders and report."""

    exit_code: int
    out: Path
    review: Path
    report: dict[str, Any]


@dataclass(frozen=True)
class Prepared:
    """The table to fit and compare on, the metadata to fit with and export, and how
    that metadata came about (for the report)."""

    table: pd.DataFrame
    metadata: dict[str, Any]
    info: dict[str, Any]


def run_synth(cfg: SynthConfig, progress: Progress | None = None) -> SynthOutcome:
    """Run ``privfl synth``; PrivflError (nothing written) on bad input."""
    with quiet_library_loggers():
        return _run(cfg, progress or Progress())


def _run(cfg: SynthConfig, progress: Progress) -> SynthOutcome:
    out, review, data_path = Path(cfg.out), Path(cfg.review_dir), Path(cfg.data)
    check_out_free(out)
    check_out_free(review)
    check_suffix(data_path)
    name = cfg.synthesizer.name
    with progress.step("read", f"reading {data_path.name}"):
        table = read_table(data_path)
    _check_rows(cfg, len(table))
    prepared = _prepare_dp(cfg, table, progress) if cfg.synthesizer.private else \
        _prepare_sdv(cfg, table, progress)
    train, holdout = _split(prepared.table, cfg.checks.holdout_fraction, cfg.seed)
    rows = cfg.rows or len(table)
    dp, release = None, None
    if cfg.synthesizer.private:
        from synthetic.dp_release import DpRelease  # the ledger pulls in Opacus and torch

        dp = DpRelease.plan(cfg, len(train))
    synthesizer: Synthesizer
    if dp is not None:
        # declared, never read from the dtype (one record's missing value changes that)
        integers = [spec.name for spec in cfg.columns if spec.integer]
        synthesizer = MstSynthesizer(cfg.synthesizer, cfg.columns, rho=dp.rho, rows=rows,
                                     integers=integers, progress=progress.callback)
        release = dp.charge()
        progress.say(f"charged ε={dp.epsilon:g} ({dp.ledger.accountant}, δ={dp.delta:g}, "
                     f"unit=record) to {dp.ledger.path} before fitting; "
                     f"{dp.ledger.remaining():.4g} of ε={dp.ledger.budget:g} left")
    else:
        synthesizer = SdvSynthesizer(cfg.synthesizer, prepared.metadata, seed=cfg.seed)
    shape = f"{len(train)} rows x {len(train.columns)} columns"
    with progress.step("fit", f"fitting {name} on {shape} ({len(holdout)} rows held out)"):
        synthesizer.fit(train)
    with progress.step("sample", f"sampling {rows} rows"):
        synthetic = synthesizer.sample(rows)
    scores = quality(train, synthetic, prepared.metadata, step=progress.step)
    privacy = privacy_checks(train, holdout, synthetic, prepared.metadata,
                             synthetic_rows=cfg.checks.synthetic_rows,
                             max_rows=cfg.checks.max_rows, seed=cfg.seed, step=progress.step)
    checks = gate_checks(privacy, cfg.gate)
    failures = failed(checks)
    # a DP release must not depend on non-DP checks of the real rows: advisory only
    released = not failures or cfg.force or cfg.synthesizer.private
    table_file = f"synthetic{data_path.suffix.lower()}"
    outputs = [f"{out.name}/{name}" for name in (table_file, "metadata.json", RELEASE_MANIFEST)
               + (REPORTS if cfg.report_in_release else ())] if released else []
    outputs += [f"{review.name}/{name}" for name in REPORTS]
    report = build_report(
        cfg, data_rows=len(table), data_columns=len(table.columns), train_rows=len(train),
        holdout_rows=len(holdout), synthetic_rows=len(synthetic),
        file_type=data_path.suffix.lower(), quality=scores, privacy=privacy, checks=checks,
        released=released, metadata_info={**prepared.info, "exported": released},
        timings=dict(progress.timings),
        dp=dp.summary(list(prepared.table.columns), released) if dp else None,
        outputs=outputs)
    reports = {"report.json": _text(to_json(report)), "report.md": _text(to_markdown(report)),
               "report.html": _text(to_html(report))}
    write_folder(review, reports)  # the site's own: statistics of the real rows
    if released:
        manifest = release_manifest(cfg, table_file, len(synthetic), dp is not None)
        files = {table_file: lambda path: write_table(
                     _with_ids(cfg, synthetic, list(table.columns)), path),
                 "metadata.json": _text(md.to_json(prepared.metadata)),
                 RELEASE_MANIFEST: _text(json.dumps(manifest, indent=2) + "\n"),
                 **(reports if cfg.report_in_release else {})}
        try:
            write_folder(out, files, before_commit=release.released if release else None)
        except BaseException:
            shutil.rmtree(review)  # ours, just written: a rerun finds both folders free
            raise
    _summarise(progress, cfg, out, review, report, failures)
    return SynthOutcome(0 if released else EXIT_BLOCKED, out, review, report)


def _check_rows(cfg: SynthConfig, rows: int) -> None:
    name, fraction = cfg.synthesizer.name, cfg.checks.holdout_fraction
    needed = SYNTHESIZERS[name].min_rows
    if rows < needed:
        raise SynthDataError(
            f"data={cfg.data}: {rows} rows, but synthesizer={name} needs at least {needed} "
            "(before the holdout for the privacy checks is set aside); give a larger table"
            + ("" if name == "gaussian_copula" else " or use synthesizer=gaussian_copula"))
    holdout = _holdout_rows(rows, fraction)
    if holdout < MIN_HOLDOUT_ROWS:
        raise SynthDataError(
            f"checks.holdout_fraction={fraction:g}: holds out {holdout} of {rows} rows, but the "
            f"overfitting check needs at least {MIN_HOLDOUT_ROWS}; raise it")


def _holdout_rows(rows: int, fraction: float) -> int:
    return round(rows * fraction)


def _split(table: pd.DataFrame, fraction: float, seed: int
           ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Training rows and held-out rows (seeded: which rows are held out is not secret)."""
    order = np.random.default_rng(seed).permutation(len(table))
    held = _holdout_rows(len(table), fraction)
    holdout = table.iloc[np.sort(order[:held])].reset_index(drop=True)
    return table.iloc[np.sort(order[held:])].reset_index(drop=True), holdout


def _prepare_sdv(cfg: SynthConfig, table: pd.DataFrame, progress: Progress) -> Prepared:
    missing = [name for name in (*cfg.drop, *cfg.ids) if name not in table.columns]
    if missing:
        raise SynthDataError(f"data={cfg.data}: no column {missing[0]!r} (named in drop or ids); "
                             f"its columns are {', '.join(map(str, table.columns))}")
    table = table.drop(columns=[*cfg.drop, *cfg.ids])
    if cfg.metadata:
        document = md.load_metadata(cfg.metadata)
        source = f"metadata={cfg.metadata}"
        md.check_matches(document, table, source)
    else:
        with progress.step("detect", "detecting SDV metadata"):
            document = md.detect_metadata(table)
        source = "detected from the table"
    removed = sorted({key for meta in md.columns_of(document).values() for key in meta}
                     - md.KEPT_COLUMN_KEYS)
    document, fit_table = md.declare(md.stripped(document), table, cfg.columns)
    md.check_matches(document, fit_table, "the declared columns")
    sdtypes = {name: meta.get("sdtype") for name, meta in md.columns_of(document).items()}
    found = identifying_columns(fit_table, sdtypes, {spec.name for spec in cfg.columns})
    if found:
        raise SynthDataError(f"data={cfg.data}: " + "; ".join(f.advice() for f in found))
    info = _info(cfg, source, removed)
    info["dropped"] = {name: "declared in drop: left out of the synthetic table"
                       for name in cfg.drop}
    info["generated_ids"] = {name: "declared in ids: new values 1..rows, never a real one"
                             for name in cfg.ids}
    return Prepared(fit_table, document, info)


def _with_ids(cfg: SynthConfig, synthetic: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``synthetic`` with each ``ids`` column filled with new values 1..rows, in the real
    table's column order (the values carry nothing of the real rows)."""
    if not cfg.ids:
        return synthetic
    out = synthetic.copy()
    for name in cfg.ids:
        out[name] = np.arange(1, len(out) + 1)
    return out[[c for c in columns if c in out.columns]]


def _prepare_dp(cfg: SynthConfig, table: pd.DataFrame, progress: Progress) -> Prepared:
    declared = [spec.name for spec in cfg.columns]
    dropped = [c for c in table.columns if c not in declared]
    if dropped:
        progress.warn(f"synthesizer={cfg.synthesizer.name} synthesizes declared columns only; "
                      f"not synthesized: {', '.join(dropped)}")
    info = _info(cfg, "built from the declared columns (no data read)", [])
    info["not_synthesized"] = dropped
    from synthetic.dp.domain import OTHER

    return Prepared(md.as_levels(table, cfg.columns), md.declared_only(cfg.columns, OTHER), info)


def _info(cfg: SynthConfig, source: str, removed: list[str]) -> dict[str, Any]:
    return {
        "source": source,
        "declared_public_columns": [spec.name for spec in cfg.columns],
        "stripped_keys": removed,
        "rule": "bounds and levels appear only for columns declared public in `columns`; "
                "every other column keeps its structural keys only",
        "synthesizer_saved": "never (SDV saves cloudpickles; privfl writes none)",
    }


def _text(text: str):
    return lambda path: path.write_text(text, encoding="utf-8")


def _summarise(progress: Progress, cfg: SynthConfig, out: Path, review: Path,
               report: dict[str, Any], failures: list) -> None:
    score = report["quality"]["score"]
    quality_text = "n/a" if score is None else f"{score:.3f}"
    advisory = report["gate"]["advisory"]
    for check in failures:
        progress.warn(f"release gate check failed{' (advisory for DP)' if advisory else ''}: "
                      f"{check.reason} [{check.key}]")
    if report["gate"]["forced"]:
        progress.warn(report["gate"]["warning"])
    if report["released"]:
        progress.say(f"wrote {report['data']['synthetic_rows']} synthetic rows and metadata to "
                     f"{out} (to share); the report, with statistics of the real rows (NOT DP, "
                     f"for this site only), to {review} (quality {quality_text})")
    else:
        progress.warn(f"release gate FAILED: the synthetic table was NOT written; the report "
                      f"is in {review} (review it; force=true writes the table anyway)")
