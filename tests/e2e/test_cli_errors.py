"""Bad input stops `privfl` with one clear line and a non-zero exit, before any work."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import run_privfl


@pytest.mark.parametrize(("args", "message"), [
    (["privacy.epsilon=-1"], "privfl: error: privacy.epsilon=-1.0: out of range; must be > 0"),
    (["task=imagenet"], "privfl: error: task=imagenet: unknown; allowed: csv, digits, tabular"),
    (["sites=1"], "privfl: error: sites=1: out of range; must be >= 2"),
    (["task=csv"], "privfl: error: task.path: missing"),
])
def test_simulate_rejects_bad_config(tmp_path: Path, args: list[str], message: str) -> None:
    result = run_privfl("simulate", *args, f"hydra.run.dir={tmp_path / 'run'}", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(message)
    assert not (tmp_path / "run" / "metrics.jsonl").exists()


def test_unknown_command(tmp_path: Path) -> None:
    result = run_privfl("simulat", cwd=tmp_path)
    assert result.returncode == 2
    assert "unknown command 'simulat'" in result.stderr


def test_ledger_command_reports_a_missing_file(tmp_path: Path) -> None:
    result = run_privfl("ledger", str(tmp_path / "nope.json"), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"privfl: error: no ledger at {tmp_path / 'nope.json'}: create a site's ledger once, "
        "explicitly: privfl ledger init PATH --site NAME --budget EPS --delta DELTA "
        '(docs/privacy.md, "The ledger")')


def test_delta_too_large_for_the_sites_stops_before_ray(tmp_path: Path) -> None:
    result = run_privfl("simulate", "sites=3", "privacy.delta=0.01",
                        f"hydra.run.dir={tmp_path / 'run'}", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(
        "privfl: error: site site-0: delta=0.01 is not below 1/(its")
    assert not (tmp_path / "run" / "config.yaml").exists()


@pytest.mark.slow
def test_every_site_out_of_budget_stops_cleanly_with_exit_3(tmp_path: Path) -> None:
    """Through the real Simulation Runtime: all sites refuse at preflight."""
    run_dir = tmp_path / "run"
    result = run_privfl("simulate", "sites=3", "rounds=1", "privacy.site_budget=0.5",
                        f"hydra.run.dir={run_dir}", cwd=tmp_path)
    assert result.returncode == 3, result.stderr[-2000:]
    assert "privfl run stopped (only 0 usable site(s) left before round 1" in result.stdout
    assert result.stderr.count("cannot take part") == 3
    assert (run_dir / "model.pt").is_file() and (run_dir / "privacy.json").is_file()


def test_audit_rejects_a_bad_confidence_before_any_work(tmp_path: Path) -> None:
    result = run_privfl("audit", "audit.confidence=1.5", f"hydra.run.dir={tmp_path / 'a'}",
                        cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "privfl: error: audit.confidence=1.5: out of range; must be > 0.5 and < 1")
    assert not (tmp_path / "a").exists()
