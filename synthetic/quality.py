"""SDV's quality score and diagnostic of a synthetic table against the real rows.

Quality (0..1, higher is closer): *Column Shapes* compares each column's distribution
(KSComplement for numbers and dates, TVComplement for categories); *Column Pair
Trends* compares correlations and contingency tables of column pairs; the overall
score is their mean. SDMetrics scores only pairs that are related in the real rows
(|correlation| > 0.5 or association > 0.3): with none, *Column Pair Trends* is n/a
and the overall score is the column shapes score. Diagnostic (0..1, 1 is expected):
*Data Validity* checks that values are in range and keys are unique; *Data Structure*
that the columns and their types match.
"""

from __future__ import annotations

import contextlib
import io
import math
import warnings
from collections.abc import Callable
from typing import Any

import pandas as pd


def quality(real: pd.DataFrame, synthetic: pd.DataFrame, metadata: dict[str, Any], *,
            step: Callable[[str, str], contextlib.AbstractContextManager[None]]
            ) -> dict[str, Any]:
    """Quality and diagnostic scores (per property, and per column for column shapes)."""
    from sdv.evaluation import evaluate_quality, run_diagnostic
    from sdv.metadata import Metadata

    name = next(iter(metadata["tables"]))
    real_tables, synth_tables = {name: real}, {name: synthetic}
    with _quiet():
        md = Metadata.load_from_dict(metadata)
    with step("quality", "SDV quality report"), _quiet():
        report = evaluate_quality(real_tables, synth_tables, md, verbose=False)
    with step("diagnostic", "SDV diagnostic report"), _quiet():
        diagnostic = run_diagnostic(real_tables, synth_tables, md, verbose=False)
    shapes = report.get_details("Column Shapes")
    return {
        "score": _number(report.get_score()),
        "properties": _properties(report),
        "column_shapes": {str(row["Column"]): _number(row["Score"])
                          for _, row in shapes.iterrows()} if "Column" in shapes else {},
        "diagnostic": {"score": _number(diagnostic.get_score()),
                       "properties": _properties(diagnostic)},
    }


def _properties(report: Any) -> dict[str, float | None]:
    table = report.get_properties()
    return {str(row["Property"]): _number(row["Score"]) for _, row in table.iterrows()
            if str(row["Property"]) != "Constraint Validity" or not _missing(row["Score"])}


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _number(value: Any) -> float | None:
    return None if _missing(value) else float(value)


@contextlib.contextmanager
def _quiet():
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        yield
