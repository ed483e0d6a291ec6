"""W&B tracking: what an offline run holds (read back from its .wandb file), and that a
tracker that breaks never stops the run."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import wandb

from server.tracking import NoTracker, open_tracker
from server.tracking.rows import numeric_metrics
from server.tracking.wandb_tracker import WandbTracker, resolve_mode
from tests.support.federation import build_federation
from tests.support.wandb_log import read_run

ROW = {
    "round": 2, "private": True, "accuracy": 0.75, "loss": 0.5, "max_run_epsilon": 1.25,
    "epsilon_site": "site-1", "epsilon_accountant": "rdp",
    "site_run_epsilon": {"site-0": 1.0, "site-1": 1.25}, "site_epsilon": None,
    "round_seconds": 1.5, "sites_sampled": 3, "sites_trained": 2, "sites_dropped": 1,
    "sites_refused": 0, "bytes_sent": 1000, "bytes_received": 900,
    "site_train": {"site-0": {"train_loss": 0.7, "examples": 40, "clipped": 10,
                              "clipped_fraction": 0.25}},
    "secure_train": None, "failed": [{"site": "site-2", "stage": "train", "reason": "x"}],
    "refused": [], "federated_evaluation": {"eval-loss": 0.6},
}


@pytest.fixture
def wandb_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WANDB_MODE", raising=False)


def _offline_run(root: Path):
    (folder,) = (root / "wandb").glob("offline-run-*")
    return read_run(folder)


def test_numbers_are_flattened_and_text_is_left_out() -> None:
    flat = numeric_metrics(ROW)
    assert flat["site_run_epsilon/site-1"] == 1.25
    assert flat["site_train/site-0/clipped_fraction"] == 0.25
    assert flat["federated_evaluation/eval-loss"] == 0.6
    assert flat["bytes_received"] == 900 and flat["sites_dropped"] == 1
    assert not {"private", "epsilon_site", "epsilon_accountant", "failed", "site_epsilon",
                "secure_train"} & set(flat)


def test_mode_comes_from_the_config_then_the_environment(monkeypatch) -> None:
    monkeypatch.delenv("WANDB_MODE", raising=False)
    assert resolve_mode(None) == "offline"
    monkeypatch.setenv("WANDB_MODE", "online")
    assert resolve_mode(None) == "online"
    assert resolve_mode("offline") == "offline"
    monkeypatch.setenv("WANDB_MODE", "dryrun")
    assert resolve_mode(None) == "offline"
    monkeypatch.setenv("WANDB_MODE", "bogus")
    assert resolve_mode(None) == "offline"


def test_none_and_disabled_track_nothing(make_config, wandb_on, tmp_path) -> None:
    assert isinstance(open_tracker(make_config("tracking=none")), NoTracker)
    assert isinstance(open_tracker(make_config("tracking.mode=disabled")).ready(), NoTracker)
    assert not (tmp_path / "wandb").exists()


def test_offline_run_holds_config_rounds_outcome_and_artifacts(make_config, wandb_on,
                                                               tmp_path) -> None:
    cfg = make_config("tracking.group=g1", "tracking.run_name=r1", "tracking.tags=[a,b]")
    (tmp_path / "model.pt").write_bytes(b"model")
    (tmp_path / "summary.txt").write_text("summary")
    tracker = open_tracker(cfg)  # starts in a background thread
    assert isinstance(tracker.ready(), WandbTracker)
    tracker.log_round({**ROW, "round": 1})
    tracker.log_round(ROW)
    tracker.finish({"status": "finished", "rounds_completed": 2},
                   [tmp_path / "model.pt", tmp_path / "summary.txt", tmp_path / "report.html"])
    run = _offline_run(tmp_path)
    assert (run.group, run.name, run.tags) == ("g1", "r1", ["a", "b"])
    assert run.config["privacy"]["epsilon"] == cfg.privacy.epsilon
    assert run.config["tracking"]["group"] == "g1"
    assert [h["_step"] for h in run.history] == [1, 2]
    assert run.history[1]["site_train/site-0/train_loss"] == 0.7
    assert run.history[1]["bytes_sent"] == 1000
    assert run.summary["outcome"] == "finished"
    assert {(a["name"], tuple(a["files"])) for a in run.artifacts} == {
        ("model", ("model.pt",)), ("run-files", ("summary.txt",))}
    assert run.exit_code == 0
    assert not list(Path.home().glob(".local/share/wandb/artifacts/staging/*/summary.txt"))
    assert (tmp_path / "wandb" / "data").is_dir()  # staging copies stay in the run dir


def test_a_failing_start_gives_a_silent_tracker(make_config, wandb_on, monkeypatch,
                                                caplog) -> None:
    def boom(**_: object) -> None:
        raise wandb.errors.CommError("no network")

    monkeypatch.setattr(wandb, "init", boom)
    with caplog.at_level(logging.WARNING, logger="privfl"):
        tracker = open_tracker(make_config()).ready()
    assert isinstance(tracker, NoTracker)
    assert ("W&B tracking could not start offline (CommError: no network); the run goes on "
            "without it") in caplog.text


def test_an_online_run_that_cannot_start_is_tracked_offline(make_config, wandb_on, tmp_path,
                                                            monkeypatch, caplog) -> None:
    real = wandb.init

    def no_network(**kwargs: object) -> object:
        if kwargs["mode"] == "online":
            raise wandb.errors.CommError("Timed out while retrying\nmore lines")
        return real(**kwargs)

    monkeypatch.setattr(wandb, "init", no_network)
    with caplog.at_level(logging.WARNING, logger="privfl"):
        tracker = open_tracker(make_config("tracking.mode=online")).ready()
    assert isinstance(tracker, WandbTracker)
    tracker.log_round(ROW)
    tracker.finish({"status": "finished", "rounds_completed": 1}, [])
    assert ("could not start online (CommError: Timed out while retrying); tracking offline "
            "instead") in caplog.text
    assert _offline_run(tmp_path).history[0]["accuracy"] == 0.75


def test_a_failing_log_stops_tracking_but_finishes_the_run(make_config, wandb_on, tmp_path,
                                                           monkeypatch, caplog) -> None:
    tracker = open_tracker(make_config())
    calls = []

    def broken(*args: object, **kwargs: object) -> None:
        calls.append(args)
        raise RuntimeError("service gone")

    with caplog.at_level(logging.WARNING, logger="privfl"):
        with monkeypatch.context() as patch:
            patch.setattr(wandb.sdk.wandb_run.Run, "log", broken)
            tracker.log_round(ROW)
            tracker.log_round(ROW)  # tracking is off after the first failure
        tracker.finish({"status": "finished", "rounds_completed": 1}, [])
    assert len(calls) == 1
    assert caplog.text.count("could not log a round") == 1
    assert _offline_run(tmp_path).exit_code == 0  # finished all the same


@pytest.mark.parametrize("fault", ["init", "log"])
def test_a_broken_tracker_never_fails_a_run(make_config, wandb_on, tmp_path, monkeypatch,
                                            fault: str) -> None:
    if fault == "init":
        monkeypatch.setattr(wandb, "init", lambda **_: 1 / 0)
    else:
        monkeypatch.setattr(wandb.sdk.wandb_run.Run, "log", lambda *a, **k: 1 / 0)
    fed = build_federation(make_config("sites=3", "rounds=2", "privacy=none"), tmp_path)
    fed.run()
    outcome = json.loads((fed.run_dir / "outcome.json").read_text())
    assert outcome | {"run_id": None} == {"status": "finished", "reason": None,
                                          "rounds_completed": 2, "run_id": None}
    assert len((fed.run_dir / "metrics.jsonl").read_text().splitlines()) == 2
