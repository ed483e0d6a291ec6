"""Privacy risk indicators of a synthetic table (none of them is a guarantee).

- exact copies: synthetic rows identical to a real row in every compared column, over
  all synthetic and all real rows (hashing: linear time, no cap);
- SDMetrics ``NewRowSynthesis``: share of sampled synthetic rows that match no real
  training row, numbers within 1 %;
- SDMetrics ``DCRBaselineProtection``: median distance from synthetic rows to their
  closest real training row, relative to that of uniformly random rows;
- SDMetrics ``DCROverfittingProtection``: whether synthetic rows lie closer to the
  training rows than to equally many real rows held out of fitting.

The three SDMetrics checks cost (synthetic rows) x (real rows): at most
``synthetic_rows`` synthetic rows are checked against at most ``max_rows`` real rows
(drawn at random), and the result says so. The training reference should hold every
training row: a synthetic copy of a training row left out of the reference looks new.
"""

from __future__ import annotations

import contextlib
import math
import sys
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd

from synthetic.identifying import unique_value_copies
from synthetic.metadata import columns_of, compared_columns, table_name

NEW_ROW_TOLERANCE = 0.01
"""Relative tolerance on numbers below which NewRowSynthesis calls a row a match."""


def privacy_checks(train: pd.DataFrame, holdout: pd.DataFrame, synthetic: pd.DataFrame,
                   metadata: dict[str, Any], *, synthetic_rows: int, max_rows: int, seed: int,
                   step: Callable[[str, str], contextlib.AbstractContextManager[None]]
                   ) -> dict[str, Any]:
    """Every indicator, each timed through ``step(key, what)``; values hold no real rows."""
    rng = np.random.default_rng(seed)
    name = table_name(metadata)
    columns = compared_columns(metadata)
    real = pd.concat([train, holdout], ignore_index=True)
    results: dict[str, Any] = {"compared_columns": columns,
                               "caps": {"checks.synthetic_rows": synthetic_rows,
                                        "checks.max_rows": max_rows}}
    with step("exact_copies", "checking for exact copies of real rows"):
        results["exact_copies"] = exact_copies(real, synthetic, metadata)
    with step("unique_value_copies", "checking for copies of values only one real row holds"):
        meta = columns_of(metadata)
        results["unique_value_copies"] = unique_value_copies(
            real, synthetic, {c: meta[c].get("sdtype") for c in columns})
    # SDMetrics measures compared columns only; one with no value at all breaks its random
    # baseline (uniform between NaN and NaN) and says nothing: left out
    usable = [c for c in columns if train[c].notna().any() and c in synthetic]
    synth_sample = _sample(synthetic[usable], synthetic_rows, rng)
    train_ref = _sample(train[usable], max_rows, rng)
    each = min(len(holdout), max_rows)
    train_eq = _sample(train[usable], each, rng)
    holdout_eq = _sample(holdout[usable], each, rng)
    metadata = _restricted(metadata, usable)
    with step("new_row_synthesis",
              f"NewRowSynthesis ({len(synth_sample)} x {len(train_ref)} rows)"):
        results["new_row_synthesis"] = _guarded(lambda: _new_rows(
            train_ref, synth_sample, metadata, name))
    with step("dcr_baseline_protection",
              f"DCRBaselineProtection ({len(synth_sample)} x {len(train_ref)} rows)"):
        results["dcr_baseline_protection"] = _guarded(lambda: _dcr_baseline(
            train_ref, synth_sample, metadata, name))
    with step("dcr_overfitting_protection",
              f"DCROverfittingProtection ({len(synth_sample)} x 2 x {each} rows)"):
        results["dcr_overfitting_protection"] = _guarded(lambda: _dcr_overfitting(
            train_eq, synth_sample, holdout_eq, metadata, name))
    results["samples"] = {
        "synthetic_rows": len(synth_sample), "synthetic_rows_total": len(synthetic),
        "training_reference_rows": len(train_ref), "training_rows_total": len(train),
        "overfitting_rows_each": each, "holdout_rows_total": len(holdout),
        "subsampled": len(synth_sample) < len(synthetic) or len(train_ref) < len(train)
        or each < len(holdout),
    }
    return results


def exact_copies(real: pd.DataFrame, synthetic: pd.DataFrame, metadata: dict[str, Any]
                 ) -> dict[str, int]:
    """Synthetic rows equal to some real row in every compared column (missing = missing);
    also how many of them copy a real row that is unique in the real table."""
    columns = [c for c in compared_columns(metadata) if c in real and c in synthetic]
    if not columns:
        return {"count": 0, "of_unique_real_rows": 0, "compared_columns": 0}
    meta = columns_of(metadata)
    real_hash = _row_hashes(real[columns], meta)
    synth_hash = _row_hashes(synthetic[columns], meta)
    counts = real_hash.value_counts()
    copied = synth_hash.isin(counts.index)
    unique = synth_hash.isin(counts.index[counts.to_numpy() == 1])
    return {"count": int(copied.sum()), "of_unique_real_rows": int(unique.sum()),
            "compared_columns": len(columns)}


def _row_hashes(frame: pd.DataFrame, meta: dict[str, dict[str, Any]]) -> pd.Series:
    canonical = pd.DataFrame({c: _canonical(frame[c], meta[c]) for c in frame.columns})
    return pd.util.hash_pandas_object(canonical, index=False)


def _canonical(column: pd.Series, meta: dict[str, Any]) -> pd.Series:
    """Values as strings that are equal exactly when the values are (1 == 1.0 == "1")."""
    other = column.astype(str).where(column.notna(), _MISSING)
    if meta.get("sdtype") == "datetime":
        with _quiet():
            parsed = pd.to_datetime(column, format=meta.get("datetime_format"), errors="coerce")
        return parsed.dt.strftime("%Y-%m-%dT%H:%M:%S.%f").where(parsed.notna(), other)
    numbers = pd.to_numeric(column, errors="coerce")
    return numbers.map(lambda x: repr(float(x))).where(numbers.notna(), other)


_MISSING = "\x00missing"


def _restricted(metadata: dict[str, Any], usable: list[str]) -> dict[str, Any]:
    """``metadata`` describing only the ``usable`` columns (what the metrics are given)."""
    name = table_name(metadata)
    table = metadata["tables"][name]
    kept = {column: meta for column, meta in table["columns"].items() if column in usable}
    return {**metadata, "tables": {name: {"columns": kept}}}


def _sample(frame: pd.DataFrame, rows: int, rng: np.random.Generator) -> pd.DataFrame:
    if len(frame) <= rows:
        return frame.reset_index(drop=True)
    picks = rng.choice(len(frame), size=rows, replace=False)
    return frame.iloc[np.sort(picks)].reset_index(drop=True)


def _new_rows(real: pd.DataFrame, synthetic: pd.DataFrame, metadata: dict[str, Any],
              name: str) -> dict[str, Any]:
    from sdmetrics.single_table import NewRowSynthesis

    with _quiet():
        result = NewRowSynthesis.compute_breakdown(
            real.copy(), synthetic.copy(), metadata, name,
            numerical_match_tolerance=NEW_ROW_TOLERANCE)
    return {"score": _number(result["score"]), "new_rows": int(result["num_new_rows"]),
            "matched_rows": int(result["num_matched_rows"]),
            "numerical_match_tolerance": NEW_ROW_TOLERANCE}


def _dcr_baseline(real: pd.DataFrame, synthetic: pd.DataFrame, metadata: dict[str, Any],
                  name: str) -> dict[str, Any]:
    from sdmetrics.single_table import DCRBaselineProtection

    with _quiet():
        result = DCRBaselineProtection.compute_breakdown(real, synthetic, metadata, name)
    medians = result["median_DCR_to_real_data"]
    return {"score": _number(result["score"]),
            "median_dcr_synthetic": _number(medians["synthetic_data"]),
            "median_dcr_random": _number(medians["random_data_baseline"])}


def _dcr_overfitting(train: pd.DataFrame, synthetic: pd.DataFrame, holdout: pd.DataFrame,
                     metadata: dict[str, Any], name: str) -> dict[str, Any]:
    from sdmetrics.single_table import DCROverfittingProtection

    with _quiet():
        result = DCROverfittingProtection.compute_breakdown(train, synthetic, holdout,
                                                            metadata, name)
    shares = result["synthetic_data_percentages"]
    return {"score": _number(result["score"]),
            "closer_to_training": _number(shares["closer_to_training"]),
            "closer_to_holdout": _number(shares["closer_to_holdout"])}


def _guarded(compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """A metric SDMetrics cannot compute on this table is reported, not fatal; the gate
    treats it as failed (it cannot vouch for what it did not measure). SDMetrics' message
    may quote values, so it goes to the console only, never into the report."""
    try:
        return compute()
    except Exception as exc:  # SDMetrics raises ValueError, TypeError, KeyError, ...
        reason = " ".join(str(exc).split())[:300]
        print(f"privfl synth: WARNING: metric failed: {type(exc).__name__}: {reason}",
              file=sys.stderr, flush=True)
        return {"score": None,
                "error": f"could not be computed ({type(exc).__name__}; see the console)"}


def _number(value: Any) -> float | None:
    number = float(value)
    return None if math.isnan(number) else number


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
