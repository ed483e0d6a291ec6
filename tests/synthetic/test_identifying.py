"""Columns that identify rows: a free-text column with one value per row and a dense ID
column are refused until declared, and once declared no real value of either comes out;
the gate counts copies of values only one real row holds."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synthetic.errors import SynthDataError
from synthetic.identifying import identifying_columns, unique_value_copies
from synthetic.pipeline import run_synth
from tests.synthetic.tables import SMALL_CHECKS, make_config


def _table(rows: int = 800) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame({
        "age": rng.integers(18, 90, rows),
        "income": rng.normal(50_000, 9_000, rows).round(2),
        "plan": rng.choice(["basic", "plus", "premium"], rows),
        # near-unique free text (7 of 8 rows have their own note), not a key SDV detects
        "notes": [f"seen on day {i % (rows * 7 // 8)}, complains of {w}" for i, w in
                  enumerate(rng.choice(["pain", "cough", "rash", "fever"], rows))],
        # a dense member number (a few shared), not a key SDV detects
        "member": rng.permutation(np.arange(70_000, 70_000 + rows) - np.arange(rows) // 50),
    })


@pytest.fixture
def site_csv(tmp_path: Path) -> Path:
    path = tmp_path / "site.csv"
    _table().to_csv(path, index=False)
    return path


def test_undeclared_identifying_columns_are_refused_naming_each(site_csv: Path,
                                                               tmp_path: Path) -> None:
    with pytest.raises(SynthDataError) as err:
        run_synth(make_config(site_csv, tmp_path / "out", *SMALL_CHECKS))
    message = str(err.value)
    assert "column 'notes' looks like near-unique free text (" in message
    assert "column 'member' looks like a dense integer ID" in message
    assert "drop=[notes]" in message and "ids=[member]" in message
    assert "\n" not in message
    assert not (tmp_path / "out").exists() and not (tmp_path / "out-review").exists()


def test_declared_drop_and_ids_release_no_real_value_of_either(site_csv: Path,
                                                              tmp_path: Path) -> None:
    real = pd.read_csv(site_csv)
    outcome = run_synth(make_config(site_csv, tmp_path / "out", "drop=[notes]", "ids=[member]",
                                    *SMALL_CHECKS))
    assert outcome.exit_code == 0
    synthetic = pd.read_csv(outcome.out / "synthetic.csv")
    assert list(synthetic.columns) == ["age", "income", "plan", "member"]
    assert not set(synthetic["member"]) & set(real["member"])
    assert sorted(synthetic["member"]) == list(range(1, len(synthetic) + 1))
    released = (outcome.out / "synthetic.csv").read_text()
    assert not [note for note in real["notes"] if note in released]
    info = outcome.report["metadata"]
    assert "notes" in info["dropped"] and "member" in info["generated_ids"]
    report = json.loads((outcome.review / "report.json").read_text())
    assert report["privacy"]["unique_value_copies"]["count"] == 0


def test_the_gate_blocks_copies_of_unique_values(site_csv: Path, tmp_path: Path) -> None:
    """Notes declared categorical with every note as a level: SDV samples real notes back;
    exact-row checks miss it (the other columns differ), the unique-value check does not."""
    notes = pd.read_csv(site_csv)["notes"]
    levels = json.dumps(list(dict.fromkeys(notes)))
    outcome = run_synth(make_config(
        site_csv, tmp_path / "out", "ids=[member]",
        f"columns=[{{name:notes,type:categorical,levels:{levels}}}]", *SMALL_CHECKS))
    assert outcome.exit_code == 4
    check = next(c for c in outcome.report["gate"]["checks"]
                 if c["key"] == "gate.max_unique_value_copies")
    assert not check["passed"] and check["value"] > 100
    assert "notes (" in check["reason"]


def test_the_checks_ignore_low_cardinality_and_sdv_ids() -> None:
    table = _table(200)
    assert [c.name for c in identifying_columns(table, {"member": "id"}, {"notes"})] == []
    sdtypes = {"age": "numerical", "income": "numerical", "plan": "categorical",
               "notes": "categorical"}
    counts = unique_value_copies(table, table.tail(10), sdtypes)
    unique = table["notes"].value_counts()
    expected = int(table.tail(10)["notes"].map(unique).eq(1).sum())
    assert counts["columns_checked"] == ["notes"] and counts["count"] == expected > 0
