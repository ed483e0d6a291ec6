"""The tabular task and a user's own CSV, each through the real Simulation Runtime."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.e2e.conftest import run_privfl
from tests.support.clinic import write_clinic_task

pytestmark = pytest.mark.slow


def _outputs(run_dir: Path) -> tuple[list[dict], dict]:
    rows = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return rows, json.loads((run_dir / "privacy.json").read_text())


def test_tabular_with_fedprox_and_dirichlet(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    result = run_privfl("simulate", "task=tabular", "strategy=fedprox", "partition=dirichlet",
                        "partition.alpha=0.3", "sites=3", "rounds=2", "privacy.epsilon=8",
                        f"hydra.run.dir={run_dir}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    rows, privacy = _outputs(run_dir)
    assert [r["sites_trained"] for r in rows] == [3, 3]
    assert rows[-1]["accuracy"] > 0.6
    assert all(7.9 < s["run_epsilon"] <= 8.0 for s in privacy["sites"].values())
    labels = [pd.read_parquet(run_dir / "data" / f"site-{i}.parquet")["churn"].value_counts(
        normalize=True).get("Yes", 0.0) for i in range(3)]
    assert max(labels) - min(labels) > 0.1  # Dirichlet label skew reached the sites


def test_own_csv_with_fedadam(tmp_path: Path) -> None:
    _, _, conf_dir = write_clinic_task(tmp_path)
    run_dir = tmp_path / "run"
    result = run_privfl("simulate", f"hydra.searchpath=[file://{conf_dir}]",
                        "task=clinic", "strategy=fedadam", "sites=3", "rounds=2",
                        "privacy.delta=1e-4", f"hydra.run.dir={run_dir}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    rows, privacy = _outputs(run_dir)
    assert [r["sites_trained"] for r in rows] == [3, 3]
    assert sorted(p.name for p in (run_dir / "data").iterdir()) == [
        "server-test.csv", "site-0.csv", "site-1.csv", "site-2.csv"]
    assert all(s["delta"] == 1e-4 for s in privacy["sites"].values())
