"""Encode a table into model tensors with a declared schema, never fitted on the data.

Numeric columns are scaled from their declared ``[low, high]`` to ``[0, 1]`` (values
outside are clipped); categorical columns are one-hot encoded over their declared
levels; the label becomes the index of its value among the declared classes. Levels,
classes and values are compared as strings, so ``1`` in a file matches level ``"1"``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from conf.errors import ConfigError
from conf.schema import FeatureSpec, LabelSpec
from tasks.errors import DataError


@dataclass(frozen=True)
class _Encoder:
    """How one feature type is checked, sized and encoded."""

    check: Callable[[FeatureSpec, str], None]
    width: Callable[[FeatureSpec], int]
    encode: Callable[[pd.Series, FeatureSpec, str], np.ndarray]


def _check_numeric(spec: FeatureSpec, key: str) -> None:
    if spec.low is None or spec.high is None:
        raise ConfigError(f"{key}: a numeric feature needs both low and high")
    if not spec.low < spec.high:
        raise ConfigError(f"{key}: low={spec.low:g} must be < high={spec.high:g}")


def _encode_numeric(column: pd.Series, spec: FeatureSpec, where: str) -> np.ndarray:
    values = pd.to_numeric(column, errors="coerce")
    bad = values.isna().to_numpy()
    if bad.any():
        raise DataError(
            f"{where}: {int(bad.sum())} non-numeric value(s), the first "
            f"{str(column.iloc[_first(bad)])!r} at {_row(bad)}, in a numeric column; fix the "
            "data or declare the feature as categorical"
        )
    infinite = ~np.isfinite(values.to_numpy(dtype=np.float64))
    if infinite.any():
        raise DataError(
            f"{where}: {int(infinite.sum())} infinite value(s), the first "
            f"{float(values.iloc[_first(infinite)])!r} at {_row(infinite)}; a numeric feature "
            f"must be finite (declared range {spec.low:g}..{spec.high:g}): fix or drop those rows"
        )
    scaled = (values.to_numpy(dtype=np.float64) - spec.low) / (spec.high - spec.low)
    return np.clip(scaled, 0.0, 1.0)[:, None]


def _check_categorical(spec: FeatureSpec, key: str) -> None:
    _check_names(spec.levels, f"{key}.levels", "level")


def _encode_categorical(column: pd.Series, spec: FeatureSpec, where: str) -> np.ndarray:
    codes = _codes(column, spec.levels, where, f"declared levels {list(spec.levels)}")
    return np.eye(len(spec.levels))[codes]


def _check_names(names: Sequence[str], key: str, what: str, at_least: int = 1) -> None:
    if len(names) < at_least:
        raise ConfigError(f"{key}: declare at least {at_least} {what}(s), got {list(names)}")
    repeated = sorted(name for name, count in Counter(map(str, names)).items() if count > 1)
    if repeated:
        raise ConfigError(f"{key}: {what}(s) {repeated} are declared more than once")


def _codes(column: pd.Series, names: Sequence[str], where: str, allowed: str) -> np.ndarray:
    """Index of each value of ``column`` in ``names``, compared as strings."""
    values = column.astype(str)
    codes = pd.Index([str(n) for n in names]).get_indexer(values)
    unknown = codes < 0
    if unknown.any():
        counts = values[unknown].value_counts()
        listed = ", ".join(f"{v!r} ({n} rows)" for v, n in counts.head(5).items())
        raise DataError(
            f"{where}: value(s) {listed} not among the {allowed}, the first at "
            f"{_row(unknown)}; declare them in the config or fix the data"
        )
    return codes.astype(np.int64)


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _row(mask: np.ndarray) -> str:
    """Where the first flagged row is, counted as a user counts the rows of a file."""
    return f"data row {_first(mask) + 1}"


_ENCODERS: dict[str, _Encoder] = {
    "numeric": _Encoder(_check_numeric, lambda spec: 1, _encode_numeric),
    "categorical": _Encoder(_check_categorical, lambda spec: len(spec.levels), _encode_categorical),
}


def validate_specs(features: Sequence[FeatureSpec], label: LabelSpec) -> None:
    """Check the declared schema itself; raise :class:`ConfigError` naming the key."""
    if not features:
        raise ConfigError("task.features: declare at least one input column")
    names = [spec.name for spec in features]
    for i, spec in enumerate(features):
        key = f"task.features[{i}] ({spec.name})"
        if spec.type not in _ENCODERS:
            raise ConfigError(f"{key}: type={spec.type!r} must be one of {sorted(_ENCODERS)}")
        first = names.index(spec.name)
        if first < i:
            raise ConfigError(f"{key}: column already declared as task.features[{first}]")
        _ENCODERS[spec.type].check(spec, key)
    if label.name in names:
        raise ConfigError(f"task.label ({label.name}): the label is also declared as a feature")
    _check_names(label.classes, f"task.label ({label.name}).classes", "class", at_least=2)


def encoded_width(features: Sequence[FeatureSpec]) -> int:
    """Number of model inputs the declared features encode to."""
    return sum(_ENCODERS[spec.type].width(spec) for spec in features)


def encode_table(
    df: pd.DataFrame,
    features: Sequence[FeatureSpec],
    label: LabelSpec,
    source: str = "table",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Encode ``df`` into float32 inputs (n, width) and int64 labels (n,).

    Raises :class:`ConfigError` for an invalid schema and :class:`DataError` (naming
    ``source``, the column, the first offending data row (1 = the first row after a CSV's
    header) and value) for a missing column, missing values, a non-numeric or infinite
    value in a numeric column, an undeclared level or a label outside the declared classes.
    """
    validate_specs(features, label)
    columns = [spec.name for spec in features] + [label.name]
    absent = [name for name in columns if name not in df.columns]
    if absent:
        raise DataError(
            f"{source}: column(s) {absent} declared in task.features/task.label are missing; "
            f"the table has {list(df.columns)}"
        )
    for name in columns:
        missing = df[name].isna().to_numpy()
        if missing.any():
            raise DataError(
                f"{source}, column {name!r}: {int(missing.sum())} missing value(s), the first "
                f"at {_row(missing)}; fill or drop those rows"
            )
    blocks = [
        _ENCODERS[spec.type].encode(df[spec.name], spec, f"{source}, column {spec.name!r}")
        for spec in features
    ]
    x = np.concatenate(blocks, axis=1)
    y = _codes(df[label.name], label.classes, f"{source}, label {label.name!r}", "label classes")
    return torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y, dtype=torch.int64)
