"""Read and write the tables that sites train on (CSV or Parquet, chosen by suffix)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pandas as pd
import pyarrow as pa

from tasks.errors import DataError

_READ_ERRORS = (
    pd.errors.ParserError,
    pd.errors.EmptyDataError,
    pa.ArrowException,
    UnicodeDecodeError,
    ValueError,
    OSError,
)


@dataclass(frozen=True)
class _Format:
    read: Callable[[Path], pd.DataFrame]
    write: Callable[[pd.DataFrame, BinaryIO], None]


_FORMATS: dict[str, _Format] = {
    ".csv": _Format(pd.read_csv, lambda df, fh: df.to_csv(fh, index=False)),
    ".parquet": _Format(pd.read_parquet, lambda df, fh: df.to_parquet(fh, index=False)),
}

TABLE_SUFFIXES: tuple[str, ...] = tuple(_FORMATS)
"""File suffixes :func:`read_table` and :func:`write_table` understand."""


def _format(path: Path) -> _Format:
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise DataError(
            f"{path}: unsupported file type {path.suffix!r}; use one of {list(TABLE_SUFFIXES)}"
        )
    return fmt


def read_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a CSV or Parquet table; raise :class:`DataError` if it is missing, of an
    unsupported type, unreadable or empty."""
    path = Path(path)
    fmt = _format(path)
    if not path.is_file():
        raise DataError(f"{path}: no such data file; check the path")
    try:
        df = fmt.read(path)
    except _READ_ERRORS as exc:
        raise DataError(f"{path}: cannot read it as {path.suffix} ({str(exc).strip()})") from exc
    if df.empty:
        raise DataError(f"{path}: the table has no rows; give a file with data")
    return df


def write_table(df: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write ``df`` (without its index) in the format of ``path``'s suffix, atomically:
    a temp file in the same folder is written, fsynced and renamed over ``path``."""
    path = Path(path)
    fmt = _format(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fmt.write(df, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file's bytes (to record which data a run used)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such data file; check the path")
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
