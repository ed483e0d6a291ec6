"""Write an output folder all at once: into a hidden temporary folder beside it, then
one rename. A failure at any point leaves no such folder (and no partial files). The
release folder also gets ``release.json`` (:func:`release_manifest`), which says what
each file is and what covers it."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from conf.errors import ConfigError
from conf.synth_schema import SynthConfig
from privacy.atomic import fsync_path

Writer = Callable[[Path], None]

RELEASE_MANIFEST = "release.json"
REPORTS = ("report.json", "report.md", "report.html")
NOT_DP_REPORTS = ("report.json, report.md, report.html: statistics of the real rows (row "
                  "counts, quality scores, distances to real rows) computed without noise; "
                  "NOT differentially private (report_in_release=true put them here)")


def release_manifest(cfg: SynthConfig, table_file: str, rows: int, private: bool
                     ) -> dict[str, Any]:
    """``release.json``: what the release folder holds and what covers each file."""
    syn = cfg.synthesizer
    table = (f"{table_file}: {rows} synthetic rows (the count was declared: rows={cfg.rows}), "
             f"(ε={syn.epsilon:g}, δ={cfg.ledger.delta:g})-DP at unit=record by "
             f"{syn.name} ({cfg.ledger.accountant} accountant)" if private else
             f"{table_file}: {rows} synthetic rows from {syn.name}, NOT differentially "
             "private; released because the release gate passed (or force=true)"
             + ("; rows=null: as many as the real table, so it tells the real row count"
                if cfg.rows is None else ""))
    return {
        "format": "privfl-synth-release/1",
        "differentially_private": private,
        "files": [table,
                  "metadata.json: SDV metadata; bounds and levels only of declared columns",
                  *((NOT_DP_REPORTS,) if cfg.report_in_release else ())],
        "not_released": ("the report with statistics of the real rows stays with the site "
                         "(review folder)" if not cfg.report_in_release else None),
    }


def check_out_free(out: Path) -> None:
    """ConfigError if ``out`` exists: privfl synth never overwrites or merges outputs."""
    if out.exists() or out.is_symlink():
        raise ConfigError(f"out={out}: already exists; choose a new folder (privfl synth "
                          "never overwrites a previous output)")


def write_folder(out: Path, files: Mapping[str, Writer],
                 before_commit: Callable[[], None] | None = None) -> None:
    """Create ``out`` holding ``files`` (name -> writer of that path), atomically.

    ``before_commit`` runs after every file is written and fsynced, just before the
    rename (e.g. to mark a DP release in the site's ledger).
    """
    check_out_free(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.partial-"))
    try:
        for name, write in files.items():
            path = staging / name
            write(path)
            fsync_path(path)
        os.chmod(staging, 0o755)
        fsync_path(staging)
        if before_commit is not None:
            before_commit()
        check_out_free(out)
        os.rename(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    with contextlib.suppress(OSError):
        fsync_path(out.parent)
