"""Columns that identify rows: found at the site before fitting, never released.

An SDV synthesizer learns a categorical column's levels and samples them back, and
rounds a dense integer column to values it saw: a free-text column with one value per
row, or a record number, comes out as real values, copied verbatim. Such a column must
be declared before ``privfl synth`` fits anything: ``drop`` (left out of the synthetic
table), ``ids`` (SDV generates new values) or ``columns`` (a categorical column with
declared levels). The cardinality counts are computed on the real rows and appear only
in the site's own error message.

The release gate's companion check, :func:`unique_value_copies`, counts synthetic cells
that repeat a value held by exactly one real row in any high-cardinality column.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

MIN_DISTINCT = 20
"""Fewer distinct values than this never identify rows by this check."""
NEAR_UNIQUE_TEXT = 0.5
"""A text/categorical column whose distinct values reach this share of its rows."""
DENSE_ID = 0.95
"""An integer column whose distinct values reach this share of its rows."""
NOT_TEXT = frozenset({"datetime", "numerical", "boolean"})
"""SDV sdtypes sampled as values, not as levels (dates, numbers): never free text."""


@dataclass(frozen=True)
class IdentifyingColumn:
    """A column that would identify rows, and why (for the site's eyes only)."""

    name: str
    kind: str
    distinct: int
    rows: int

    def advice(self) -> str:
        return (f"column {self.name!r} looks like {self.kind} ({self.distinct} distinct values "
                f"in {self.rows} rows): SDV would copy its real values; declare it as "
                f"drop=[{self.name}] (left out), ids=[{self.name}] (new values generated) or "
                f"in columns with type=categorical and its levels")


def identifying_columns(table: pd.DataFrame, sdtypes: Mapping[str, str],
                        declared: Collection[str]) -> list[IdentifyingColumn]:
    """The undeclared columns of ``table`` that are near-unique text or dense integer IDs
    (``sdtypes``: SDV's sdtype per column; columns SDV treats as ``id`` are generated
    anew and pass)."""
    found = []
    for name in table.columns:
        if name in declared or sdtypes.get(name) == "id":
            continue
        column = table[name].dropna()
        distinct, rows = int(column.nunique()), len(column)
        if distinct < MIN_DISTINCT:
            continue
        if _integer_valued(column):
            if distinct >= DENSE_ID * rows:
                found.append(IdentifyingColumn(name, "a dense integer ID", distinct, rows))
        elif sdtypes.get(name) not in NOT_TEXT and not pd.api.types.is_numeric_dtype(column) \
                and distinct >= NEAR_UNIQUE_TEXT * rows:
            found.append(IdentifyingColumn(name, "near-unique free text", distinct, rows))
    return found


def unique_value_copies(real: pd.DataFrame, synthetic: pd.DataFrame,
                        sdtypes: Mapping[str, str]) -> dict[str, Any]:
    """Synthetic cells equal to a value that exactly one real row holds, per column, over
    the columns of ``sdtypes`` (SDV's sdtype per compared column) that are
    high-cardinality text or dense integers (distinct values at least
    ``NEAR_UNIQUE_TEXT`` of the rows, and at least ``MIN_DISTINCT``); counts only, no
    value."""
    per_column = {}
    for name, sdtype in sdtypes.items():
        if name not in synthetic or name not in real or sdtype in ("datetime", "boolean"):
            continue  # dates coincide by the day; the distance checks (DCR) cover them
        values = real[name].dropna()
        distinct = values.nunique()
        if distinct < max(MIN_DISTINCT, NEAR_UNIQUE_TEXT * len(values)):
            continue
        if pd.api.types.is_numeric_dtype(values) and not _dense_integers(values, distinct):
            continue  # continuous or sparse numbers coincide by chance; DCR covers them
        counts = values.astype(str).value_counts()
        unique = set(counts.index[counts == 1])
        per_column[name] = int(synthetic[name].dropna().astype(str).isin(unique).sum())
    return {"count": sum(per_column.values()), "per_column": per_column,
            "columns_checked": sorted(per_column)}


def _dense_integers(values: pd.Series, distinct: int) -> bool:
    """Integers filling most of their range (record numbers): any sampled value is real."""
    return _integer_valued(values) and float(values.max() - values.min()) < 2 * distinct


def _integer_valued(column: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(column) or not pd.api.types.is_numeric_dtype(column):
        return False
    return bool((column == column.round()).all())
