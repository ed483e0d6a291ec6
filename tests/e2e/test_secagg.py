"""Secure aggregation with DP-SGD and site-level DP through the real Simulation Runtime."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from tests.e2e.conftest import run_privfl

pytestmark = pytest.mark.slow


def test_secaggplus_with_record_and_site_level_dp_through_ray(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    result = run_privfl("simulate", "secagg=secaggplus", "privacy=record_and_client",
                        "privacy.client.epsilon=50", "sites=4", "rounds=2",
                        f"hydra.run.dir={run_dir}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "secagg=secaggplus" in result.stdout
    assert "DP-FedAvg site-level ε=50 for this run (rdp, δ=0.001, unit=site" in result.stdout
    rows = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["sites_trained"] for r in rows] == [4, 4]
    assert rows[0]["site_epsilon"] < rows[1]["site_epsilon"] <= 50
    model = torch.load(run_dir / "model.pt")
    assert all(torch.isfinite(v).all() for v in model.values())
    privacy = json.loads((run_dir / "privacy.json").read_text())
    assert all(2.9 < s["run_epsilon"] <= 3.0 for s in privacy["sites"].values())
    assert privacy["site_level"]["releases"] == 2 and privacy["site_level"]["unit"] == "site"
    identities = run_dir / "sites" / "identities"
    assert (identities / "roster.json").is_file()
    assert oct((identities / "site-0.identity").stat().st_mode & 0o777) == "0o600"
