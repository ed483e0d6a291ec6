"""Bad input stops ``privfl synth`` with one line naming what to change, and leaves no
``out`` folder (nor a partial one) behind."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from conf.errors import PrivflError
from synthetic import pipeline
from synthetic.pipeline import run_synth
from tests.synthetic.tables import SMALL_CHECKS, make_config, mixed_table


def _csv(folder: Path, table: pd.DataFrame, name: str = "site.csv") -> Path:
    table.to_csv(folder / name, index=False)
    return folder / name


def _missing(folder: Path) -> tuple[Path, list[str]]:
    return folder / "nope.csv", []


def _text_file(folder: Path) -> tuple[Path, list[str]]:
    (folder / "site.txt").write_text("a,b\n1,2\n")
    return folder / "site.txt", []


def _garbage_parquet(folder: Path) -> tuple[Path, list[str]]:
    (folder / "site.parquet").write_bytes(b"this is not parquet")
    return folder / "site.parquet", []


def _header_only(folder: Path) -> tuple[Path, list[str]]:
    (folder / "site.csv").write_text("age,income\n")
    return folder / "site.csv", []


def _zero_bytes(folder: Path) -> tuple[Path, list[str]]:
    (folder / "site.csv").write_bytes(b"")
    return folder / "site.csv", []


def _foreign_metadata(folder: Path) -> tuple[Path, list[str]]:
    metadata = {"tables": {"patients": {"columns": {"age": {"sdtype": "numerical"},
                                                     "height": {"sdtype": "numerical"}}}},
                "relationships": [], "METADATA_SPEC_VERSION": "V2"}
    (folder / "md.json").write_text(json.dumps(metadata))
    return _csv(folder, mixed_table()), [f"metadata={folder / 'md.json'}"]


def _broken_metadata(folder: Path) -> tuple[Path, list[str]]:
    (folder / "md.json").write_text("{not json")
    return _csv(folder, mixed_table()), [f"metadata={folder / 'md.json'}"]


def _too_few_rows(folder: Path) -> tuple[Path, list[str]]:
    return _csv(folder, mixed_table(rows=60)), []


def _too_few_for_ctgan(folder: Path) -> tuple[Path, list[str]]:
    return _csv(folder, mixed_table(rows=300)), ["synthesizer=ctgan", "synthesizer.epochs=1"]


def _undeclared_column(folder: Path) -> tuple[Path, list[str]]:
    return _csv(folder, mixed_table()), ["columns=[{name:weight,type:numeric,low:0,high:300}]"]


def _undeclared_level(folder: Path) -> tuple[Path, list[str]]:
    return _csv(folder, mixed_table()), ["columns=[{name:tier,type:categorical,"
                                         "levels:[bronze,silver]}]"]


CASES: list[tuple[str, Callable[[Path], tuple[Path, list[str]]], str]] = [
    ("missing file", _missing, "nope.csv: no such file; check the path"),
    ("unsupported type", _text_file, "unsupported file type '.txt'; use one of .csv, .parquet"),
    ("unreadable parquet", _garbage_parquet, "cannot read it as .parquet"),
    ("header only", _header_only, "the table has no rows; give a file with data"),
    ("empty file", _zero_bytes, "cannot read it as .csv"),
    ("metadata of another table", _foreign_metadata, "does not match the table"),
    ("metadata not JSON", _broken_metadata, "not SDV metadata"),
    ("too few rows", _too_few_rows,
     "60 rows, but synthesizer=gaussian_copula needs at least 100"),
    ("too few rows for ctgan", _too_few_for_ctgan,
     "300 rows, but synthesizer=ctgan needs at least 500"),
    ("declared column missing", _undeclared_column,
     "'weight' is declared but the table has no such column"),
    ("undeclared level", _undeclared_level,
     "value(s) that are not among its declared levels; declare every level"),
]


@pytest.mark.parametrize(("case", "make", "message"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_and_writes_nothing(case: str, make, message: str,
                                                  tmp_path: Path) -> None:
    data, overrides = make(tmp_path)
    out = tmp_path / "shared" / "out"
    with pytest.raises(PrivflError) as info:
        run_synth(make_config(data, out, *SMALL_CHECKS, *overrides))
    assert message in str(info.value)
    assert "\n" not in str(info.value)
    assert not out.exists()
    assert not list(out.parent.glob(".out.partial-*")) if out.parent.exists() else True


def test_a_failure_while_writing_leaves_no_out(tmp_path: Path, monkeypatch) -> None:
    """Fault injection: the disk fails while the synthetic table is written."""
    data = _csv(tmp_path, mixed_table())

    def disk_full(table: pd.DataFrame, path: Path) -> None:
        path.write_text("partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pipeline, "write_table", disk_full)
    with pytest.raises(OSError, match="No space left"):
        run_synth(make_config(data, tmp_path / "out", *SMALL_CHECKS))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site.csv"]
