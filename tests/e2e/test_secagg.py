"""Secure aggregation with DP-SGD through the real Simulation Runtime."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import run_privfl

pytestmark = pytest.mark.slow


def test_secaggplus_with_dp_sgd_through_ray(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    result = run_privfl("simulate", "secagg=secaggplus", "sites=4", "rounds=2",
                        f"hydra.run.dir={run_dir}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "secagg=secaggplus" in result.stdout
    rows = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["sites_trained"] for r in rows] == [4, 4]
    assert rows[-1]["accuracy"] > rows[0]["accuracy"] - 0.05
    privacy = json.loads((run_dir / "privacy.json").read_text())
    assert all(2.9 < s["run_epsilon"] <= 3.0 for s in privacy["sites"].values())
    identities = run_dir / "sites" / "identities"
    assert (identities / "roster.json").is_file()
    assert oct((identities / "site-0.identity").stat().st_mode & 0o777) == "0o600"
