"""Metadata hygiene: no exported byte (metadata.json, report.*) carries a value unique to a
real row, a rare category level, or a data-derived bound, unless declared public; no
synthesizer pickle is ever written."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from synthetic.metadata import KEPT_COLUMN_KEYS
from synthetic.pipeline import SynthOutcome, run_synth
from tests.synthetic.tables import (
    MIXED_COLUMNS,
    OUTLIER,
    RARE_LEVEL,
    SMALL_CHECKS,
    churn_table,
    columns_override,
    copying_synthesizer,
    make_config,
    mixed_table,
)

RELEASED = ("metadata.json", "release.json")
REVIEWED = ("report.json", "report.md", "report.html")
EXPORTED = RELEASED + REVIEWED
CHURN_LEVELS = ("Fiber optic", "Electronic check", "Month-to-month", "No internet service",
                "Credit card (automatic)", "Bank transfer (automatic)")


def secret_tokens(real: pd.DataFrame) -> set[str]:
    """Strings that would betray real rows: each value only one row has, each level fewer
    than six rows have, and each column's exact minimum and maximum; short tokens (which
    could occur by chance inside any number) are left out."""
    tokens: set[str] = set()
    for name in real.columns:
        column = real[name].dropna()
        counts = column.value_counts()
        rare = counts[counts < (2 if pd.api.types.is_numeric_dtype(column) else 6)].index
        values = list(rare)
        numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
        if numeric or name == "joined":  # data-derived bounds
            values += [column.min(), column.max()]
        for value in values:
            tokens |= {repr(value), str(value)} if isinstance(value, float) else {str(value)}
    return {t for t in tokens if len(t) >= 6 or not t.replace(".", "").isdigit()}


def exported_bytes(outcome: SynthOutcome) -> dict[str, str]:
    """Every text file written: the release folder's and the review folder's."""
    paths = [outcome.out / name for name in RELEASED] + [outcome.review / n for n in REVIEWED]
    return {path.name: path.read_text(encoding="utf-8") for path in paths if path.exists()}


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    folder = tmp_path_factory.mktemp("hygiene")
    real = mixed_table()
    real.to_csv(folder / "site.csv", index=False)
    return folder / "site.csv", pd.read_csv(folder / "site.csv")


@pytest.fixture(scope="module")
def undeclared(site, tmp_path_factory) -> SynthOutcome:
    data, _ = site
    return run_synth(make_config(data, tmp_path_factory.mktemp("u") / "out", *SMALL_CHECKS))


@pytest.fixture(scope="module")
def declared(site, tmp_path_factory) -> SynthOutcome:
    data, _ = site
    return run_synth(make_config(data, tmp_path_factory.mktemp("d") / "out", *SMALL_CHECKS,
                                 columns_override(MIXED_COLUMNS)))


def test_the_scan_would_see_a_leak(site) -> None:
    _, real = site
    tokens = secret_tokens(real)
    assert {RARE_LEVEL, repr(OUTLIER), "R100000"} <= tokens
    assert repr(float(real["income"].max())) in tokens
    assert str(real["joined"].dropna().min()) in tokens


def test_undeclared_exports_hold_no_real_values(site, undeclared: SynthOutcome) -> None:
    _, real = site
    tokens = secret_tokens(real)
    assert undeclared.exit_code == 0
    for name, text in exported_bytes(undeclared).items():
        leaked = sorted(t for t in tokens if t in text)
        assert not leaked, f"{name} holds real values {leaked[:5]}"
    for level in ("basic", "premium", "bronze", "silver"):  # common levels, not declared
        assert f'"{level}"' not in exported_bytes(undeclared)["metadata.json"]


def test_undeclared_metadata_has_structure_only(undeclared: SynthOutcome) -> None:
    exported = json.loads((undeclared.out / "metadata.json").read_text())
    columns = exported["tables"]["table"]["columns"]
    assert all(set(meta) <= KEPT_COLUMN_KEYS for meta in columns.values())
    assert columns["joined"] == {"sdtype": "datetime", "datetime_format": "%Y-%m-%d"}
    assert columns["income"] == {"sdtype": "numerical"}
    assert undeclared.report["metadata"]["stripped_keys"] == [
        "decimal_places", "high_cardinality", "range_is_nullable", "range_max", "range_min",
        "range_values"]


def test_declared_bounds_and_levels_are_the_only_ones_exported(site, declared) -> None:
    _, real = site
    exported = json.loads((declared.out / "metadata.json").read_text())
    columns = exported["tables"]["table"]["columns"]
    for spec in MIXED_COLUMNS:
        if spec.type == "numeric":
            assert columns[spec.name] == {"sdtype": "numerical", "range_min": spec.low,
                                          "range_max": spec.high}
        else:
            assert columns[spec.name] == {"sdtype": "categorical",
                                          "range_values": list(spec.levels)}
    undeclared = set(columns) - {spec.name for spec in MIXED_COLUMNS}
    assert all(set(columns[name]) <= KEPT_COLUMN_KEYS for name in undeclared)
    public = {RARE_LEVEL}  # declared public: may appear; nothing else may
    for name, text in exported_bytes(declared).items():
        leaked = sorted(t for t in secret_tokens(real) - public if t in text)
        assert not leaked, f"{name} holds real values {leaked[:5]}"


def test_a_blocked_run_report_holds_no_real_values(site, tmp_path: Path) -> None:
    data, real = site
    with copying_synthesizer():
        outcome = run_synth(make_config(data, tmp_path / "out", *SMALL_CHECKS))
    assert outcome.exit_code == 4
    for name, text in exported_bytes(outcome).items():
        leaked = sorted(t for t in secret_tokens(real) if t in text)
        assert not leaked, f"{name} holds real values {leaked[:5]}"


def test_no_pickle_or_other_file_is_written(undeclared: SynthOutcome) -> None:
    names = {p.name for p in undeclared.out.rglob("*")}
    assert names == {"synthetic.csv", *RELEASED}
    assert {p.name for p in undeclared.review.rglob("*")} == set(REVIEWED)
    for path in [*undeclared.out.iterdir(), *undeclared.review.iterdir()]:
        assert not path.read_bytes().startswith(b"\x80")  # a pickle's protocol opcode


def test_churn_levels_of_undeclared_columns_stay_out(tmp_path: Path) -> None:
    """Every level of wa_churn is common, but none is declared: none may be exported."""
    real = churn_table().sample(1500, random_state=0)
    real.to_csv(tmp_path / "churn.csv", index=False)
    outcome = run_synth(make_config(tmp_path / "churn.csv", tmp_path / "out",
                                    "checks.synthetic_rows=100", "checks.max_rows=500"))
    texts = exported_bytes(outcome)
    assert set(texts) == set(EXPORTED)
    for name, text in texts.items():
        assert not [level for level in CHURN_LEVELS if level in text], name
        assert repr(float(real["total_charges"].max())) not in text
