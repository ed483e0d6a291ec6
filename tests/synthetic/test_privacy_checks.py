"""Exact copies are found by value, whatever the dtype; missing matches missing."""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthetic.privacy_checks import exact_copies

METADATA = {"tables": {"t": {"primary_key": "id", "columns": {
    "id": {"sdtype": "id"},
    "n": {"sdtype": "numerical"},
    "c": {"sdtype": "categorical"},
    "d": {"sdtype": "datetime", "datetime_format": "%Y-%m-%d"},
}}}}

REAL = pd.DataFrame({"id": [1, 2, 3], "n": [1, 2.5, np.nan], "c": ["a", "b", None],
                     "d": ["2020-01-01", "2020-01-02", None]})


def test_copies_match_across_dtypes_and_missing_values() -> None:
    synthetic = pd.DataFrame({
        "id": [7, 8, 9, 10],  # ids are generated anew: never compared
        "n": [1.0, np.nan, 2.5, 2.5],
        "c": ["a", np.nan, "b", "b"],
        "d": pd.to_datetime(["2020-01-01", None, "2020-01-02", "2020-01-03"]),
    })
    result = exact_copies(REAL, synthetic, METADATA)
    assert result == {"count": 3, "of_unique_real_rows": 3, "compared_columns": 3}


def test_near_values_are_not_copies() -> None:
    synthetic = REAL.assign(n=REAL["n"] + 1e-9, id=[4, 5, 6])
    assert exact_copies(REAL, synthetic, METADATA)["count"] == 1  # the row with n missing


def test_copies_of_repeated_rows_are_told_apart() -> None:
    real = pd.concat([REAL, REAL.iloc[[0]]], ignore_index=True)
    result = exact_copies(real, REAL.iloc[[0, 1]], METADATA)
    assert result["count"] == 2 and result["of_unique_real_rows"] == 1
