"""Secure aggregation with DP-SGD and site-level DP through the real Simulation Runtime."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from privacy.ledger import Ledger
from tests.e2e.conftest import run_privfl
from tests.support.lying_server_app import REPLIES

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]


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
    assert privacy["site_epsilon_withheld"] is True  # each site's ε stays at the site
    for ledger in (run_dir / "ledgers").glob("*.json"):
        spent = Ledger.load(ledger)
        assert 2.9 < spent.run_epsilon(spent.events[0].run_id) <= 3.0
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
    ledgers = sorted((run_dir / "ledgers").glob("*.json"))
    assert len(ledgers) == 3 and all(Ledger.load(path).entries == () for path in ledgers)


def test_a_lying_serverapp_in_the_simulation_runtime_is_refused_at_every_step(
        tmp_path: Path) -> None:
    """A ServerApp that skips preflight, skips SecAgg+, runs stages out of order and asks
    for per-site evaluation, run by Flower's Simulation Runtime against privfl's real
    ClientApp on Ray: each site refuses each step, naming its setting; no ledger moves."""
    run_dir = tmp_path / "run"
    code = ("import sys; from tests.support.lying_server_app import simulate; "
            "sys.exit(simulate(sys.argv[1:]))")
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    proc = subprocess.run(
        [sys.executable, "-c", code, "sites=3", "rounds=1", "secagg=secaggplus",
         "simulation.site_policy.require_secure_aggregation=true",
         f"hydra.run.dir={run_dir}"], cwd=tmp_path, capture_output=True, text=True,
        timeout=600, env={**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": path})
    assert proc.returncode == 0, proc.stderr[-3000:]
    answers = json.loads((run_dir / REPLIES).read_text())
    expected = {
        "synthesize before preflight": "before this run's preflight",
        "plain train": "requires secure aggregation (require-secure-aggregation=true): it "
                       "trains only inside the SecAgg+ mask stage",
        "mask without advertise": "got SecAgg+ stage 'mask' of round 1 while at no secure "
                                  "aggregation round",
        "advertise again": "got SecAgg+ stage 'advertise' of round 1 while at round 1",
        "evaluate": "answers no federated evaluation under secure aggregation",
    }
    for attack, reason in expected.items():
        replies = answers[attack]
        assert len(replies) == 3, attack
        assert all(r["status"] == "refused" and reason in r["reason"]
                   for r in replies.values()), (attack, replies)
    assert all(r["status"] == "ok" for r in answers["preflight"].values())
    assert all(r["status"] == "ok" for r in answers["advertise"].values())
    ledgers = sorted((run_dir / "ledgers").glob("*.json"))
    assert len(ledgers) == 3 and all(not Ledger.load(path).events for path in ledgers)
