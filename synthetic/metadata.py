"""SDV metadata: detected or loaded, checked against the table, and stripped for export.

SDV 2.0's ``Metadata.detect_from_dataframes`` writes data-derived facts into each column:
``range_min``/``range_max`` (the exact smallest and largest value of numeric and datetime
columns), ``range_values`` (every level of categorical and ordinal columns with fewer
than 1,000 levels, in order of appearance), ``range_is_nullable`` (whether any value is
missing), ``decimal_places`` and ``high_cardinality``. A metadata file written by a user
may hold the same keys. None of them may leave the site unless declared public, so the
metadata privfl fits with and exports keeps only the structural keys of each column
(:data:`KEPT_COLUMN_KEYS`) plus the bounds and levels declared in ``columns``.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from conf.schema import FeatureSpec
from synthetic.errors import SynthDataError

TABLE = "table"
"""Name of the single table in detected and declared metadata."""
KEPT_COLUMN_KEYS = frozenset({"sdtype", "datetime_format", "computer_representation", "pii",
                              "regex_format"})
"""Column metadata keys that describe structure, not values: all an export keeps."""
SMALL_INTEGER_DOMAIN = 10
"""Declared integer columns with at most this many values are categorical for SDV."""
COMPARED_SDTYPES = frozenset({"numerical", "datetime", "categorical", "boolean", "ordinal"})
"""Columns whose values a synthesizer learns (ids and PII columns are generated anew)."""


def load_metadata(path: str | Path) -> dict[str, Any]:
    """The metadata file at ``path`` as a single-table metadata dict (SDV 2.0 format)."""
    from sdv.metadata import Metadata

    path = Path(path)
    if not path.is_file():
        raise SynthDataError(f"metadata={path}: no such file; check the path, or leave "
                             "metadata unset to detect it from the table")
    try:
        with _quiet():
            metadata = Metadata.load_from_json(str(path))
    except Exception as exc:  # SDV raises ValueError, JSONDecodeError, InvalidMetadataError...
        raise SynthDataError(f"metadata={path}: not SDV metadata ({_one_line(exc)}); fix the "
                             "file, or leave metadata unset to detect it") from exc
    document = metadata.to_dict()
    tables = document.get("tables", {})
    if len(tables) != 1:
        raise SynthDataError(f"metadata={path}: describes {len(tables)} tables; privfl synth "
                             "fits one table: give single-table metadata")
    return document


def detect_metadata(table: pd.DataFrame) -> dict[str, Any]:
    """SDV's detected metadata for ``table`` (holds data-derived ranges: keep it local)."""
    from sdv.metadata import Metadata

    with _quiet():
        return Metadata.detect_from_dataframes({TABLE: table}).to_dict()


def check_matches(document: dict[str, Any], table: pd.DataFrame, source: str) -> None:
    """SynthDataError (one line) unless the metadata is valid and describes ``table``."""
    from sdv.metadata import Metadata

    name = table_name(document)
    try:
        with _quiet():
            metadata = Metadata.load_from_dict(document)
            metadata.validate()
            metadata.validate_data({name: table})
    except Exception as exc:
        raise SynthDataError(f"{source} does not match the table: {_one_line(exc)}; fix the "
                             "metadata (or leave metadata unset to detect it)") from exc


def table_name(document: dict[str, Any]) -> str:
    """The name of the only table of a single-table metadata dict."""
    return next(iter(document["tables"]))


def columns_of(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Column name -> column metadata of the only table."""
    return document["tables"][table_name(document)]["columns"]


def compared_columns(document: dict[str, Any]) -> list[str]:
    """Columns whose values the synthesizer learns: what copies and distances compare."""
    table = document["tables"][table_name(document)]
    keys = {table.get("primary_key")} | set(table.get("alternate_keys") or ())
    return [name for name, meta in table["columns"].items()
            if meta.get("sdtype") in COMPARED_SDTYPES and name not in keys]


def stripped(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with only the structural keys of each column (:data:`KEPT_COLUMN_KEYS`).

    Ordinal columns lose their (data-derived) order and become categorical; declared
    columns get their public type, bounds and levels back from :func:`declare`.
    """
    document = copy.deepcopy(document)
    for meta in columns_of(document).values():
        for key in set(meta) - KEPT_COLUMN_KEYS:
            del meta[key]
        if meta.get("sdtype") == "ordinal":
            meta["sdtype"] = "categorical"
    return document


def declare(document: dict[str, Any], table: pd.DataFrame, columns: Sequence[FeatureSpec]
            ) -> tuple[dict[str, Any], pd.DataFrame]:
    """Apply the public declarations to stripped metadata and to the table to fit on.

    Declared numeric columns become ``numerical`` (with the declared ``low``/``high`` as
    their range, values outside it clipped; :func:`_numeric_metadata`); declared
    categorical columns become
    ``categorical`` with the declared levels (converted to the column's type), and a
    value that is not a declared level is refused.
    """
    document = copy.deepcopy(document)
    meta = columns_of(document)
    table = table.copy()
    for spec in columns:
        if spec.name not in table.columns:
            raise SynthDataError(f"columns: {spec.name!r} is declared but the table has no such "
                                 "column; fix the name or remove the declaration")
        if spec.type == "numeric":
            table[spec.name] = _numeric(table[spec.name], spec)
            meta[spec.name] = _numeric_metadata(spec)
        else:
            levels = typed_levels(table[spec.name], spec)
            meta[spec.name] = {"sdtype": "categorical", "range_values": levels}
    return document, table


def declared_only(columns: Sequence[FeatureSpec], other: str | None = None
                  ) -> dict[str, Any]:
    """Metadata built from the declarations alone (no data read): for DP synthesizers,
    whose real table is given with categorical values as the declared level strings.
    ``other`` (a public constant) is added to every categorical column's levels: the value
    a DP synthesizer writes for a cell outside the declared levels."""
    meta: dict[str, dict[str, Any]] = {}
    for spec in columns:
        if spec.type == "numeric":
            meta[spec.name] = {"sdtype": "numerical", "range_min": spec.low,
                               "range_max": spec.high}
        else:
            extra = [other] if other is not None else []
            meta[spec.name] = {"sdtype": "categorical", "range_values": [*spec.levels, *extra]}
    return {"tables": {TABLE: {"columns": meta}}, "relationships": [],
            "METADATA_SPEC_VERSION": "V2"}


def as_levels(table: pd.DataFrame, columns: Sequence[FeatureSpec]) -> pd.DataFrame:
    """The declared columns of ``table``: numeric ones clipped to their bounds, categorical
    ones as the declared level strings (a value that is no declared level is refused)."""
    out = {}
    for spec in columns:
        if spec.name not in table.columns:
            raise SynthDataError(f"columns: {spec.name!r} is declared but the table has no such "
                                 "column; fix the name or remove the declaration")
        column = table[spec.name]
        if spec.type == "numeric":
            out[spec.name] = _numeric(column, spec)
        else:
            levels = typed_levels(column, spec)
            names = dict(zip(levels, spec.levels, strict=True))
            out[spec.name] = column.map(names).where(column.notna(), None)
    return pd.DataFrame(out)


def typed_levels(column: pd.Series, spec: FeatureSpec) -> list[Any]:
    """The declared levels as values of ``column``'s type; refuses undeclared values."""
    try:
        if pd.api.types.is_bool_dtype(column):
            levels = [_boolean(level) for level in spec.levels]
        elif pd.api.types.is_integer_dtype(column):
            levels = [int(level) for level in spec.levels]
        elif pd.api.types.is_float_dtype(column):
            levels = [float(level) for level in spec.levels]
        else:
            levels = list(spec.levels)
    except ValueError as exc:
        raise SynthDataError(
            f"columns: {spec.name!r} holds {column.dtype} values but a declared level is not "
            f"one ({exc}); declare the levels as they appear in the table") from exc
    present = column.dropna()
    if not pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        present = present.astype(str)
    undeclared = int((~present.isin(levels)).sum())
    if undeclared:
        raise SynthDataError(
            f"columns: {spec.name!r} has {undeclared} value(s) that are not among its declared "
            "levels; declare every level the column may take (levels are public knowledge), "
            "or remove the values")
    return levels


def _numeric_metadata(spec: FeatureSpec) -> dict[str, Any]:
    """SDV metadata of a declared numeric column. An integer column with at most
    :data:`SMALL_INTEGER_DOMAIN` public values (0/1 indicators, ratings) is categorical
    over them: modelled as a continuous number, a 0/1 column's mass lands in the wrong
    place (SDV quality on wa_churn's declared columns: 0.843 as numbers, 0.888 so)."""
    if (spec.integer and spec.low is not None and spec.high is not None
            and spec.high - spec.low + 1 <= SMALL_INTEGER_DOMAIN):
        return {"sdtype": "categorical",
                "range_values": list(range(int(spec.low), int(spec.high) + 1))}
    bounds = {"range_min": spec.low, "range_max": spec.high}
    return {"sdtype": "numerical", **{k: v for k, v in bounds.items() if v is not None}}


def _numeric(column: pd.Series, spec: FeatureSpec) -> pd.Series:
    numbers = pd.to_numeric(column, errors="coerce")
    if int((numbers.isna() & column.notna()).sum()):
        raise SynthDataError(f"columns: {spec.name!r} is declared numeric but holds values that "
                             "are not numbers; declare it categorical or fix the table")
    return numbers.clip(lower=spec.low, upper=spec.high)


def _boolean(level: str) -> bool:
    lowered = level.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise ValueError(f"{level!r} is not true or false")


def _one_line(exc: BaseException) -> str:
    text = " ".join(part.strip() for part in str(exc).splitlines() if part.strip())
    return text or type(exc).__name__


@contextlib.contextmanager
def _quiet():
    """SDV prints detection results and warns freely: keep that off the console."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        yield


def to_json(document: dict[str, Any]) -> str:
    """Metadata as pretty JSON text."""
    return json.dumps(document, indent=2, default=str) + "\n"
