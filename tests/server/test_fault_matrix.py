"""The real ServerApp and ClientApp over an in-process grid: failures, refusals, budgets.

Each scenario injects one fault (a crash, a silent site, a tiny budget, a too-large δ)
and checks what the run leaves behind: metrics rows, privacy.json, ledgers, the model.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch
from flwr.app import ArrayRecord

from client.local_training import train_round
from privacy.errors import BudgetExceededError
from privacy.ledger import Ledger
from tests.support.federation import build_federation, node_id
from tests.support.inprocess_grid import CRASH, SILENT


def _rows(run_dir: Path) -> list[dict]:
    path = run_dir / "metrics.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _privacy(run_dir: Path) -> dict:
    return json.loads((run_dir / "privacy.json").read_text())


@pytest.fixture
def small(make_config):
    """Three digits sites, two rounds, fast."""
    return make_config("sites=3", "rounds=2")


def test_crashing_site_is_left_out_of_that_round_only(small, tmp_path: Path) -> None:
    fed = build_federation(small, tmp_path, faults={node_id(1): ("train", CRASH)})
    fed.run()
    rows = _rows(fed.run_dir)
    assert [r["sites_trained"] for r in rows] == [2, 2]
    failure = rows[0]["failed"][0]
    assert failure["site"] == "site-1" and failure["stage"] == "train"
    assert "injected crash" in failure["reason"]
    privacy = _privacy(fed.run_dir)
    assert privacy["sites"]["site-1"]["failures"] == 2
    assert privacy["sites"]["site-1"]["excluded"] is None  # errors do not exclude
    assert Ledger.load(fed.ledger(1)).events == ()  # its ClientApp never ran a round
    assert len(Ledger.load(fed.ledger(0)).events) == 2


def test_crash_between_charge_and_training_never_under_counts(small, tmp_path: Path,
                                                              monkeypatch) -> None:
    def crash(*args, **kwargs):
        raise RuntimeError("injected crash after the charge")

    monkeypatch.setattr("client.local_training.make_private", crash)
    fed = build_federation(small, tmp_path)
    fed.run()
    outcome = json.loads((fed.run_dir / "outcome.json").read_text())
    assert outcome["status"] == "stopped"  # round 1: no site trained, below min_sites
    for site in range(3):
        ledger = Ledger.load(fed.ledger(site))
        assert [e.round for e in ledger.events] == [1]  # charged, never trained
        assert ledger.spent() > 0
    assert _rows(fed.run_dir) == []


def test_non_finite_update_is_left_out(small, tmp_path: Path, monkeypatch) -> None:
    def diverging_round(cfg, settings, *args, **kwargs):
        result = train_round(cfg, settings, *args, **kwargs)
        if settings.site != "site-1":
            return result
        state = result.arrays.to_torch_state_dict()
        nan = {k: torch.full_like(v, float("nan")) for k, v in state.items()}
        return dataclasses.replace(result, arrays=ArrayRecord(nan))

    monkeypatch.setattr("client.app.train_round", diverging_round)
    fed = build_federation(small, tmp_path)
    fed.run()
    rows = _rows(fed.run_dir)
    assert rows[0]["failed"][0]["site"] == "site-1"
    assert "non-finite" in rows[0]["failed"][0]["reason"]
    assert [r["sites_trained"] for r in rows] == [2, 2]
    final = torch.load(fed.run_dir / "model.pt")
    assert all(torch.isfinite(v).all() for v in final.values())


def test_missing_data_file_is_refused_naming_the_file(small, tmp_path: Path) -> None:
    fed = build_federation(small, tmp_path)
    (tmp_path / "data" / "site-2.parquet").unlink()
    fed.run()
    refusal = _privacy(fed.run_dir)["preflight"][0]
    assert (refusal["site"], refusal["kind"]) == ("site-2", "DataError")
    assert "site-2.parquet" in refusal["reason"]
    assert [r["sites_trained"] for r in _rows(fed.run_dir)] == [2, 2]


def test_silent_site_is_logged_as_no_reply(small, tmp_path: Path) -> None:
    fed = build_federation(small, tmp_path, faults={node_id(2): ("train", SILENT)})
    fed.run()
    rows = _rows(fed.run_dir)
    assert rows[0]["failed"] == [{"site": "site-2", "stage": "train",
                                  "reason": "no reply within 600 s"}]
    assert rows[0]["sites_trained"] == 2


def test_tiny_budget_site_refuses_before_round_one(small, tmp_path: Path) -> None:
    fed = build_federation(small, tmp_path, budgets={0: 0.5})
    fed.run()
    privacy = _privacy(fed.run_dir)
    refusal = privacy["preflight"][0]
    assert (refusal["site"], refusal["kind"]) == ("site-0", "BudgetExceededError")
    assert "lifetime budget ε=0.5" in refusal["reason"]
    assert privacy["sites"]["site-0"]["rounds_trained"] == 0
    assert Ledger.load(fed.ledger(0)).events == ()
    assert [r["sites_trained"] for r in _rows(fed.run_dir)] == [2, 2]
    # The refusing site is never sent training work.
    assert (node_id(0), "train") not in fed.grid.delivered


def test_run_stops_cleanly_when_too_few_sites_remain(small, tmp_path: Path) -> None:
    fed = build_federation(small, tmp_path, budgets={0: 0.5, 1: 0.5})
    fed.run()
    summary = (fed.run_dir / "summary.txt").read_text()
    assert summary.startswith("privfl run stopped (only 1 usable site(s) left before round 1")
    assert "min_sites=2" in summary
    outcome = json.loads((fed.run_dir / "outcome.json").read_text())
    assert outcome.pop("run_id").isdigit()  # names the run's charges in the ledgers
    assert outcome == {
        "status": "stopped", "reason": summary.split("stopped (")[1].split("): 0/2")[0],
        "rounds_completed": 0}
    assert _rows(fed.run_dir) == []
    initial = torch.load(fed.run_dir / "checkpoints/round-000.pt")
    final = torch.load(fed.run_dir / "model.pt")
    assert all(torch.equal(initial[k], final[k]) for k in initial)


def test_refusal_mid_run_below_min_sites_stops_that_round(make_config, tmp_path: Path,
                                                          monkeypatch) -> None:
    """site-0 runs dry in round 2 (another run spent its budget): two sites trained, below
    min_sites=3, so round 2 is not aggregated and the run stops (round 1 is kept)."""

    def exhausted_in_round_two(cfg, settings, data, arrays, *, run_id, server_round,
                               proximal_mu):
        if settings.site == "site-0" and server_round == 2:
            raise BudgetExceededError(site="site-0", accountant="rdp", delta=1e-5, spent=9.9,
                                      requested=10.4, budget=10.0, what="charging round 2")
        return train_round(cfg, settings, data, arrays, run_id=run_id,
                           server_round=server_round, proximal_mu=proximal_mu)

    monkeypatch.setattr("client.app.train_round", exhausted_in_round_two)
    fed = build_federation(make_config("sites=3", "rounds=3", "min_sites=3"), tmp_path)
    fed.run()
    assert [r["round"] for r in _rows(fed.run_dir)] == [1]
    assert (fed.run_dir / "checkpoints/round-001.pt").is_file()
    assert not (fed.run_dir / "checkpoints/round-002.pt").exists()
    outcome = json.loads((fed.run_dir / "outcome.json").read_text())
    assert outcome["status"] == "stopped" and outcome["rounds_completed"] == 1
    assert outcome["reason"].startswith("round 2: only 2 of 3 sampled site(s) trained, "
                                        "min_sites=3")
    assert "site-0: site 'site-0'" in outcome["reason"]
    assert _privacy(fed.run_dir)["sites"]["site-0"]["excluded"].startswith("site 'site-0'")


def test_delta_not_below_one_over_rows_is_refused(make_config, tmp_path: Path) -> None:
    cfg = make_config("sites=3", "rounds=1", "privacy.delta=0.01")
    fed = build_federation(cfg, tmp_path)
    fed.run()
    reasons = [r["reason"] for r in _privacy(fed.run_dir)["preflight"]]
    assert len(reasons) == 3
    assert all("delta=0.01 is not below 1/(its" in r for r in reasons)


def test_second_run_keeps_spending_the_same_ledger(small, tmp_path: Path) -> None:
    first = build_federation(small, tmp_path / "a", ledger_dir=tmp_path / "ledgers")
    first.run()
    spent_once = Ledger.load(first.ledger(0)).spent()
    second = build_federation(small, tmp_path / "b", ledger_dir=tmp_path / "ledgers")
    second.run()
    ledger = Ledger.load(second.ledger(0))
    assert len({e.run_id for e in ledger.events}) == 2
    assert ledger.spent() > spent_once
    site = _privacy(second.run_dir)["sites"]["site-0"]
    assert site["lifetime_epsilon"] == ledger.spent()
    assert site["run_epsilon"] == pytest.approx(spent_once, rel=1e-6)


def test_non_private_run_claims_no_epsilon(make_config, tmp_path: Path) -> None:
    fed = build_federation(make_config("sites=3", "rounds=1", "privacy=none"), tmp_path)
    fed.run()
    privacy = _privacy(fed.run_dir)
    assert privacy["private"] is False and "NOT PRIVATE" in privacy["statement"]
    assert _rows(fed.run_dir)[0]["max_run_epsilon"] is None
    assert Ledger.load(fed.ledger(0)).entries == ()  # nothing charged


def test_a_node_claiming_another_sites_name_never_replaces_its_row(make_config,
                                                                  tmp_path: Path) -> None:
    """Node 3 says it is site-0: it is left out as a duplicate under its own key, and the
    real site-0's row (its node, its rounds, its ε) stays in privacy.json."""
    cfg = make_config("sites=4", "rounds=2")
    fed = build_federation(cfg, tmp_path, node_overrides={3: {"site": "site-0"}})
    fed.run()
    sites = json.loads((fed.run_dir / "privacy.json").read_text())["sites"]
    impostor = f"node-{node_id(3)} (claims 'site-0')"
    assert set(sites) == {"site-0", "site-1", "site-2", impostor}
    real = sites["site-0"]
    assert real["node_id"] == node_id(0) and real["excluded"] is None
    assert real["rounds_trained"] == 2 and real["run_epsilon"] > 0
    assert sites[impostor]["node_id"] == node_id(3)
    assert "site name 'site-0' is already used by node" in sites[impostor]["excluded"]
    assert sites[impostor]["rounds_trained"] == 0


def test_a_round_with_fewer_trained_sites_than_min_sites_stops_the_run(
        small, tmp_path: Path) -> None:
    """Two of three sites crash in every round (as a killed Ray actor does): round 1 has
    one trained site, below min_sites=2, so it is not aggregated and the run stops."""
    faults = {node_id(0): ("train", CRASH), node_id(2): ("train", CRASH)}
    fed = build_federation(small, tmp_path, faults=faults)
    fed.run()
    outcome = json.loads((fed.run_dir / "outcome.json").read_text())
    assert outcome["status"] == "stopped" and outcome["rounds_completed"] == 0
    assert outcome["reason"].startswith("round 1: only 1 of 3 sampled site(s) trained, "
                                        "min_sites=2; the round is not aggregated")
    assert "site-0: RuntimeError: injected crash" in outcome["reason"]
    initial = torch.load(fed.run_dir / "checkpoints/round-000.pt")
    final = torch.load(fed.run_dir / "model.pt")
    assert all(torch.equal(initial[k], final[k]) for k in initial)
