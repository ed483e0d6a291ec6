"""The discrete domain of a declared table: cells from the config, never from the data.

Each declared column (``conf.schema.FeatureSpec``) becomes one discrete attribute whose
cells depend on the declaration alone (public knowledge), so the domain itself reveals
nothing about the records:

- numeric: ``bins`` equal-width bins over the declared ``[low, high]``; values outside
  are clipped to the bounds. Sampled values are drawn uniformly inside their bin, as
  floats. A column named in ``integers`` (declared integer-valued, e.g. a 0/1 indicator
  or a count) gets integer-aligned cells instead: one per integer in ``[low, high]``
  when there are at most ``bins`` of them, else ``bins`` near-equal runs of integers;
  its values are rounded when encoded and sampled as integers (still of float dtype,
  so that a missing value can be NaN).
- categorical: one cell per declared level (values compared as strings), plus one cell
  ``OTHER`` for any value not declared. A sampled ``OTHER`` cell becomes the string
  ``OTHER``, never the undeclared value itself.
- every column: one more cell for a missing value (NaN/None), sampled back as NaN.

With ``complete`` (public knowledge, e.g. a task whose encoding refuses missing values and
undeclared levels), columns have neither the missing cell nor ``OTHER``: noise then puts
no mass on values the table cannot hold, and a missing or undeclared value is refused.

Datetime columns are not supported: convert them to numbers (e.g. days since a fixed
date) and declare numeric bounds.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from conf.errors import ConfigError
from conf.schema import FeatureSpec
from privacy.noise import NoiseSource

OTHER = "<other>"
"""What a sampled categorical value outside the declared levels is written as."""


@dataclass(frozen=True, eq=False)
class Codec:
    """One column's cells: ``edges`` bound numeric cells, ``levels`` name categorical ones.

    Unless ``complete``, cell ``size - 1`` is the missing cell and for a categorical
    column cell ``size - 2`` is ``OTHER``. Numeric cell ``i`` holds
    ``[edges[i], edges[i+1])`` (the last one is closed; for an integer column the last
    edge is ``high + 1``, so cells hold whole integers).
    """

    name: str
    edges: np.ndarray | None = None
    integer: bool = False
    levels: tuple[str, ...] = ()
    complete: bool = False

    @property
    def size(self) -> int:
        """Number of cells, the missing (and ``OTHER``) cell included unless ``complete``."""
        extra = 0 if self.complete else 1
        if self.edges is not None:
            return len(self.edges) - 1 + extra
        return len(self.levels) + 2 * extra

    @property
    def missing(self) -> int:
        return self.size - 1

    def encode(self, column: pd.Series) -> np.ndarray:
        """The cell index of each value of ``column``."""
        missing = column.isna().to_numpy()
        if self.complete and missing.any():
            raise ValueError(f"column {self.name!r} is declared complete but holds "
                             f"{int(missing.sum())} missing value(s)")
        if self.edges is None:
            codes = pd.Index(self.levels).get_indexer(column.astype(str))
            other = (codes < 0) & ~missing
            if self.complete and other.any():
                raise ValueError(f"column {self.name!r} is declared complete but holds "
                                 f"{int(other.sum())} value(s) outside its declared levels")
            codes[codes < 0] = len(self.levels)
        else:
            top = self.edges[-1] - 1 if self.integer else self.edges[-1]
            values = np.clip(_numbers(column, self.name), self.edges[0], top)
            if self.integer:
                values = np.rint(values)
            codes = np.searchsorted(self.edges, values, side="right") - 1
            codes = np.minimum(codes, len(self.edges) - 2)
        codes[missing] = self.missing
        return codes.astype(np.int64)

    def decode(self, codes: np.ndarray, noise: NoiseSource) -> np.ndarray:
        """Values for cell indices ``codes``; numeric values drawn uniformly in their cell."""
        if self.edges is None:
            values = np.array([*self.levels, OTHER, math.nan], dtype=object)
            return values[codes]
        start = np.append(self.edges[:-1], math.nan)[codes]  # the missing cell gives NaN
        width = np.append(np.diff(self.edges), math.nan)[codes]
        uniform = noise.rand(len(codes)).numpy()
        return start + (np.floor(uniform * width) if self.integer else uniform * width)


def make_codecs(
    columns: Sequence[FeatureSpec], bins: int, integers: Collection[str] = (),
    complete: bool = False,
) -> list[Codec]:
    """One codec per declared column (``complete``: without missing and ``OTHER`` cells);
    ConfigError naming the column if a declaration is bad."""
    if not columns:
        raise ConfigError("declare at least one column to synthesise")
    if not isinstance(bins, int) or isinstance(bins, bool) or bins < 2:
        raise ConfigError(f"bins must be an integer >= 2, got {bins!r}")
    names = [spec.name for spec in columns]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ConfigError(f"column(s) {repeated} are declared more than once")
    numeric = {spec.name for spec in columns if spec.type == "numeric"}
    unknown = sorted(set(integers) - numeric)
    if unknown:
        raise ConfigError(f"integers names {unknown}, which are not declared numeric columns")
    return [_codec(spec, bins, spec.name in integers, complete) for spec in columns]


def encode_table(data: pd.DataFrame, codecs: Sequence[Codec]) -> dict[str, np.ndarray]:
    """Cell indices of the declared columns of ``data`` (other columns are ignored)."""
    absent = [codec.name for codec in codecs if codec.name not in data.columns]
    if absent:
        raise ValueError(
            f"declared column(s) {absent} are missing from the table, which has "
            f"{list(data.columns)}"
        )
    if len(data) == 0:
        raise ValueError("the table has no rows; there is nothing to synthesise from")
    return {codec.name: codec.encode(data[codec.name]) for codec in codecs}


def decode_table(
    codes: Mapping[str, np.ndarray], codecs: Sequence[Codec], noise: NoiseSource
) -> pd.DataFrame:
    """The table of values for ``codes``, columns in the declared order."""
    return pd.DataFrame(
        {codec.name: codec.decode(codes[codec.name], noise) for codec in codecs}
    )


def _codec(spec: FeatureSpec, bins: int, integer: bool, complete: bool) -> Codec:
    where = f"column {spec.name!r}"
    if spec.type == "categorical":
        levels = tuple(str(level) for level in spec.levels)
        if not levels or len(set(levels)) < len(levels) or OTHER in levels:
            raise ConfigError(
                f"{where}: declare distinct levels, none of them {OTHER!r}, got {list(levels)}"
            )
        return Codec(spec.name, levels=levels, complete=complete)
    if spec.type != "numeric":
        raise ConfigError(f"{where}: type={spec.type!r} must be 'numeric' or 'categorical'")
    low, high = spec.low, spec.high
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        raise ConfigError(f"{where}: a numeric column needs finite low and high bounds")
    if integer:
        low, high = math.ceil(low), math.floor(high)
    if not low < high:
        what = "two integers" if integer else "a number"
        raise ConfigError(
            f"{where}: low={spec.low!r} and high={spec.high!r} must span more than {what}"
        )
    if not integer:
        return Codec(spec.name, edges=np.linspace(low, high, bins + 1), complete=complete)
    count = high - low + 1
    cells = min(bins, count)
    edges = low + (np.arange(cells + 1) * count) // cells
    return Codec(spec.name, edges=edges.astype(np.float64), integer=True, complete=complete)


def _numbers(column: pd.Series, name: str) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(column) or pd.api.types.is_timedelta64_dtype(column):
        raise ValueError(
            f"column {name!r} holds dates or times, which the MST synthesizer does not "
            "support; convert it to a number (e.g. days since a fixed date) with declared "
            "numeric bounds"
        )
    values = pd.to_numeric(column, errors="coerce")
    bad = column[values.isna() & column.notna()]
    if len(bad):
        raise ValueError(
            f"column {name!r} is declared numeric but holds {len(bad)} non-numeric value(s) "
            f"such as {str(bad.iloc[0])!r}; declare it categorical or fix the data"
        )
    return values.to_numpy(dtype=np.float64, na_value=np.nan)
