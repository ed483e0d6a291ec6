"""A 3-site, 2-round DP simulation through the real Simulation Runtime (Ray).

One run serves many assertions: its outputs, its privacy accounting, a site that had
already spent most of its lifetime budget refusing before round 1, and the run
finishing with the other two. A second invocation (a sweep) reuses the same ledgers.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import torch
from opacus.accountants import RDPAccountant

from privacy.events import DpSgdEvent
from privacy.ledger import Ledger
from tests.e2e.conftest import CliRun, run_privfl

pytestmark = pytest.mark.slow

BUDGET = 10.0
DELTA = 1e-5


@pytest.fixture(scope="module")
def ledger_dir(workdir: Path) -> Path:
    """Ledgers shared by every run here; site-0 has already spent ~9.9 of its 10."""
    folder = workdir / "ledgers"
    ledger = Ledger.create(folder / "site-0.json", site="site-0", delta=DELTA,
                           accountant="rdp", budget=BUDGET)
    ledger.charge(DpSgdEvent(run_id="earlier-study", round=1, noise_multiplier=0.89,
                             sample_rate=0.1, steps=100))
    assert 9.8 < ledger.spent() < BUDGET
    return folder


@pytest.fixture(scope="module")
def first_run(workdir: Path, ledger_dir: Path) -> tuple[CliRun, Path]:
    run_dir = workdir / "run"
    result = run_privfl("simulate", "sites=3", "rounds=2", f"simulation.ledger_dir={ledger_dir}",
                        "simulation.init_ledgers=true", f"hydra.run.dir={run_dir}", cwd=workdir)
    assert result.returncode == 0, result.stderr[-3000:]
    return result, run_dir


def test_progress_lines_and_summary(first_run) -> None:
    result, run_dir = first_run
    lines = [line for line in result.stdout.splitlines() if line.startswith("round ")]
    assert len(lines) == 2
    assert lines[0].startswith("round 1/2 | acc ")
    assert "max ε" in lines[0] and "(rdp, δ=1e-05, unit=record)" in lines[0]
    assert "2/2 sites" in lines[0]
    assert "privfl run finished: 2/2 rounds" in result.stdout
    assert (run_dir / "summary.txt").read_text() in result.stdout


def test_run_directory_holds_every_output(first_run) -> None:
    _, run_dir = first_run
    for name in ("config.yaml", "metrics.jsonl", "privacy.json", "manifest.json", "model.pt",
                 "summary.txt", "timing.json", "checkpoints/round-000.pt",
                 "checkpoints/round-002.pt"):
        assert (run_dir / name).is_file(), name
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["round"] for r in rows] == [1, 2]
    assert all(0.0 <= r["accuracy"] <= 1.0 for r in rows)
    assert rows[-1]["sites_trained"] == 2
    assert "rounds: 2" in (run_dir / "config.yaml").read_text()
    state = torch.load(run_dir / "model.pt")
    final = torch.load(run_dir / "checkpoints/round-002.pt")
    assert state.keys() == final.keys()
    assert all(torch.equal(state[k], final[k]) for k in state)


def test_a_used_run_directory_is_refused(first_run, workdir: Path) -> None:
    _, run_dir = first_run
    again = run_privfl("simulate", f"hydra.run.dir={run_dir}", cwd=workdir)
    assert again.returncode == 2
    assert f"run directory {run_dir} already holds a run" in again.stderr


def test_manifest_hashes_the_coordinators_file_only(first_run) -> None:
    _, run_dir = first_run
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["packages"]["flwr"] == "1.42.0"
    assert manifest["packages"]["opacus"] == "1.6.0"
    assert len(manifest["config_sha256"]) == 64
    for name, digest in manifest["data_sha256"].items():
        assert hashlib.sha256((run_dir / "data" / name).read_bytes()).hexdigest() == digest
    assert set(manifest["data_sha256"]) == {"server-test.parquet"}  # no site file's hash


def test_exhausted_site_refuses_before_round_one(first_run, ledger_dir: Path) -> None:
    _, run_dir = first_run
    privacy = json.loads((run_dir / "privacy.json").read_text())
    site0 = privacy["sites"]["site-0"]
    assert site0["rounds_trained"] == 0
    assert "lifetime budget" in site0["excluded"]
    assert privacy["preflight"][0]["site"] == "site-0"
    assert privacy["preflight"][0]["kind"] == "BudgetExceededError"
    ledger = Ledger.load(ledger_dir / "site-0.json")
    assert [e.run_id for e in ledger.events] == ["earlier-study"]  # nothing charged


def test_privacy_json_matches_an_independent_accountant(first_run, ledger_dir: Path) -> None:
    _, run_dir = first_run
    privacy = json.loads((run_dir / "privacy.json").read_text())
    assert privacy["private"] is True
    assert privacy["uncovered_releases"]
    for site in ("site-1", "site-2"):
        record = privacy["sites"][site]
        assert (record["unit"], record["accountant"], record["delta"]) == ("record", "rdp", DELTA)
        assert record["rounds_trained"] == 2
        accountant = RDPAccountant()
        accountant.history = [(record["noise_multiplier"], record["sample_rate"],
                               record["steps"])]
        assert record["run_epsilon"] == pytest.approx(accountant.get_epsilon(DELTA), rel=1e-9)
        assert record["run_epsilon"] <= 3.0
        assert record["remaining"] == pytest.approx(BUDGET - record["lifetime_epsilon"])
        rows = len(__import__("pandas").read_parquet(run_dir / "data" / f"{site}.parquet"))
        train_rows = rows - round(0.2 * rows)
        assert record["sample_rate"] == pytest.approx(16 / train_rows, rel=0.05)
        ledger = Ledger.load(ledger_dir / f"{site}.json")
        assert ledger.spent() == record["lifetime_epsilon"]
        assert sorted(e.round for e in ledger.events) == [1, 2]


def test_sweep_keeps_spending_from_the_same_ledgers(first_run, workdir: Path,
                                                   ledger_dir: Path) -> None:
    before = Ledger.load(ledger_dir / "site-1.json").spent()
    sweep_dir = workdir / "sweep"
    result = run_privfl("simulate", "-m", "privacy.epsilon=1,2", "sites=3", "rounds=1",
                        f"simulation.ledger_dir={ledger_dir}", f"hydra.sweep.dir={sweep_dir}",
                        cwd=workdir)
    assert result.returncode == 0, result.stderr[-3000:]
    runs = sorted(p for p in sweep_dir.iterdir() if (p / "privacy.json").is_file())
    assert len(runs) == 2
    targets = [json.loads((r / "privacy.json").read_text())["target_epsilon_per_run"]
               for r in runs]
    assert targets == [1.0, 2.0]
    after = Ledger.load(ledger_dir / "site-1.json")
    assert len({e.run_id for e in after.events}) == 3
    assert after.spent() > before
    lifetime = json.loads((runs[-1] / "privacy.json").read_text())["sites"]["site-1"]
    assert lifetime["lifetime_epsilon"] == pytest.approx(after.spent())
    assert lifetime["run_epsilon"] < lifetime["lifetime_epsilon"]


def test_audit_of_the_finished_run_writes_audit_json_beside_privacy_json(
        first_run, workdir: Path, ledger_dir: Path) -> None:
    _, run_dir = first_run
    events_before = Ledger.load(ledger_dir / "site-1.json").events
    result = run_privfl("audit", f"run_dir={run_dir}", "audit.site=1", "audit.canaries=100",
                        f"hydra.run.dir={workdir / 'audit'}", cwd=workdir)
    assert result.returncode == 0, result.stderr[-3000:]
    record = json.loads((run_dir / "audit.json").read_text())
    assert record == json.loads((workdir / "audit" / "audit.json").read_text())
    assert record["site"] == "site-1" and record["canaries"] == 100
    assert record["attack"] == "loss" and record["confidence"] == 0.95
    assert record["rounds"] == 2 and record["accountant"] == "rdp" and record["unit"] == "record"
    assert 2.9 < record["claimed_epsilon"] <= 3.0
    assert record["epsilon_lower_bound"] <= record["claimed_epsilon"]
    assert result.stdout.splitlines()[-1] == f"privfl audit: {record['summary']}"
    assert Ledger.load(ledger_dir / "site-1.json").events == events_before  # own ledger
    report = (run_dir / "report.md").read_text()  # rebuilt with the audit next to the claim
    assert "empirical ε lower bound" in report and "with 100 canaries" in report
