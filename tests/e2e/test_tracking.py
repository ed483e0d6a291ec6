"""`privfl simulate` with the default tracking (W&B, offline) through the real Simulation
Runtime: the offline W&B run, read back from its .wandb file, holds every round's
metrics as metrics.jsonl has them; under secure aggregation no site's own training facts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from server.tracking.rows import numeric_metrics
from tests.e2e.conftest import CliRun, run_privfl
from tests.support.wandb_log import OfflineRun, read_run

pytestmark = pytest.mark.slow

SITES = ("site-0", "site-1", "site-2")


def _simulate(workdir: Path, name: str, *overrides: str) -> tuple[CliRun, Path, OfflineRun]:
    run_dir = workdir / name
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("WANDB_MODE", raising=False)  # the default: tracking=wandb, offline
        result = run_privfl("simulate", "experiment=quick", *overrides,
                            f"hydra.run.dir={run_dir}", cwd=workdir)
    assert result.returncode == 0, result.stderr[-3000:]
    (folder,) = (run_dir / "wandb").glob("offline-run-*")
    return result, run_dir, read_run(folder)


def _rows(run_dir: Path) -> list[dict]:
    return [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def plain(workdir: Path) -> tuple[CliRun, Path, OfflineRun]:
    return _simulate(workdir, "plain")


@pytest.fixture(scope="module")
def secure(workdir: Path) -> tuple[CliRun, Path, OfflineRun]:
    return _simulate(workdir, "secure", "secagg=secaggplus")


def test_every_round_is_in_the_wandb_run_as_in_metrics_jsonl(plain) -> None:
    _, run_dir, run = plain
    rows = _rows(run_dir)
    assert [h["_step"] for h in run.history] == [1, 2]
    for row, logged in zip(rows, run.history, strict=True):
        expected = numeric_metrics(row)
        assert {k: logged[k] for k in expected} == expected
        for key in ("accuracy", "loss", "max_run_epsilon", "round_seconds", "sites_sampled",
                    "sites_trained", "sites_dropped", "sites_refused", "bytes_sent",
                    "bytes_received"):
            assert key in logged
        for site in SITES:
            assert logged[f"site_run_epsilon/{site}"] > 0
            for fact in ("train_loss", "examples", "clipped", "clipped_fraction"):
                assert f"site_train/{site}/{fact}" in logged
    assert rows[1]["site_run_epsilon"]["site-0"] > rows[0]["site_run_epsilon"]["site-0"]
    assert rows[0]["bytes_sent"] > 0 and rows[0]["bytes_received"] > 0


def test_config_outcome_and_artifacts(plain) -> None:
    result, run_dir, run = plain
    assert run.config["privacy"]["epsilon"] == 3.0 and run.config["sites"] == 3
    assert run.config["tracking"]["name"] == "wandb"
    assert run.name == run_dir.name
    assert run.summary["outcome"] == "finished" and run.summary["rounds_completed"] == 2
    files = {a["name"]: a["files"] for a in run.artifacts}
    assert files["model"] == ["model.pt"]
    assert {"summary.txt", "privacy.json", "outcome.json"} <= set(files["run-files"])
    assert run.exit_code == 0
    assert "wandb" not in result.stdout.lower()  # W&B prints nothing into the run's output


def test_under_secure_aggregation_only_sums_are_logged(secure) -> None:
    _, run_dir, run = secure
    rows = _rows(run_dir)
    for row, logged in zip(rows, run.history, strict=True):
        assert row["site_train"] is None
        assert logged["secure_train/sites"] == 3
        assert logged["secure_train/examples"] == row["secure_train"]["examples"] > 0
        assert logged["secure_train/mean_train_loss"] == row["secure_train"]["mean_train_loss"]
        assert 0 <= logged["secure_train/clipped_fraction"] <= 1
    assert not [k for h in run.history for k in h if k.startswith("site_train")]
    assert b"site_train" not in run.raw
