"""Read the site's table and write the synthetic one (CSV or Parquet, by suffix)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pyarrow as pa

from synthetic.errors import SynthDataError

SUFFIXES = (".csv", ".parquet")
_READ_ERRORS = (pd.errors.ParserError, pd.errors.EmptyDataError, pa.ArrowException,
                UnicodeDecodeError, ValueError, OSError)


def check_suffix(path: Path, key: str = "data") -> None:
    """SynthDataError unless ``path`` names a CSV or Parquet file."""
    if path.suffix.lower() not in SUFFIXES:
        raise SynthDataError(f"{key}={path}: unsupported file type {path.suffix!r}; "
                             f"use one of {', '.join(SUFFIXES)}")


def read_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """The table at ``path``; SynthDataError if it is missing, unreadable or has no rows."""
    path = Path(path)
    check_suffix(path)
    if not path.is_file():
        raise SynthDataError(f"data={path}: no such file; check the path")
    try:
        table = pd.read_csv(path) if path.suffix.lower() == ".csv" else pd.read_parquet(path)
    except _READ_ERRORS as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise SynthDataError(f"data={path}: cannot read it as {path.suffix} ({reason}); "
                             "give a readable CSV or Parquet file") from exc
    if table.empty or len(table.columns) == 0:
        raise SynthDataError(f"data={path}: the table has no rows; give a file with data")
    if any(not isinstance(c, str) for c in table.columns):
        table.columns = [str(c) for c in table.columns]
    return table


def write_table(table: pd.DataFrame, path: Path) -> None:
    """Write ``table`` without its index in the format of ``path``'s suffix."""
    if path.suffix.lower() == ".csv":
        table.to_csv(path, index=False)
    else:
        table.to_parquet(path, index=False)
