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
                        "simulation.site_policy.require_secure_aggregation=true",
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
    settings = json.loads((run_dir / "sites" / "site-0.json").read_text())
    assert settings["policy"]["require_secure_aggregation"] is True
    identities = run_dir / "sites" / "identities"
    assert (identities / "roster.json").is_file()
    assert oct((identities / "site-0.identity").stat().st_mode & 0o777) == "0o600"


def test_sites_that_require_secure_aggregation_refuse_a_run_without_it(tmp_path: Path) -> None:
    """Every site refuses at preflight, by name and reason; the run stops (exit 3) and no
    ledger holds a charge."""
    run_dir = tmp_path / "run"
    result = run_privfl("simulate", "secagg=none", "sites=3", "rounds=1",
                        "simulation.site_policy.require_secure_aggregation=true",
                        f"hydra.run.dir={run_dir}", cwd=tmp_path)
    assert result.returncode == 3, result.stderr[-3000:]
    output = result.stdout + result.stderr
    for site in ("site-0", "site-1", "site-2"):
        assert f"{site}" in output
    assert output.count("requires secure aggregation (require-secure-aggregation=true), "
                        "but this run asks for secagg=none") >= 3
    for ledger in (run_dir / "ledgers").glob("*.json"):
        assert json.loads(ledger.read_text())["events"] == []
