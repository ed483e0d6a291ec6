"""Training rounds under SecAgg+ through the real ServerApp and ClientApp (in-process)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from client.mods import secagg as site_mod
from tests.support.federation import build_federation, node_id
from tests.support.inprocess_grid import CRASH, SILENT


def _rows(run_dir: Path) -> list[dict]:
    return [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]


def _model(run_dir: Path, name: str = "model.pt") -> dict[str, torch.Tensor]:
    return torch.load(run_dir / name)


def test_secure_round_equals_plaintext_fedavg(make_config, tmp_path: Path) -> None:
    overrides = ("sites=5", "rounds=1", "privacy=none")
    plain = build_federation(make_config(*overrides), tmp_path / "plain")
    plain.run()
    secure = build_federation(make_config(*overrides, "secagg=secaggplus"), tmp_path / "secure")
    secure.run()
    expected, got = _model(plain.run_dir), _model(secure.run_dir)
    assert all(torch.allclose(expected[k], got[k], atol=1e-4) for k in expected)
    row = _rows(secure.run_dir)[0]
    assert row["sites_trained"] == 5 and row["failed"] == []


@pytest.mark.parametrize("stage", ["advertise", "share", "mask", "unmask"])
@pytest.mark.parametrize("fault", [CRASH, SILENT])
def test_a_site_failing_at_any_stage_leaves_the_others_aggregated(
        make_config, tmp_path: Path, stage: str, fault: str) -> None:
    cfg = make_config("sites=5", "rounds=1", "secagg=secaggplus", "secagg.stage_timeout=5")
    fed = build_federation(cfg, tmp_path, faults={node_id(2): (f"train/{stage}", fault)})
    fed.run()
    row = _rows(fed.run_dir)[0]
    before, after = _model(fed.run_dir, "checkpoints/round-000.pt"), _model(fed.run_dir)
    assert any(not torch.equal(before[k], after[k]) for k in before)
    assert all(torch.isfinite(v).all() for v in after.values())
    if stage == "unmask":  # its masked input arrived: it still counts
        assert row["sites_trained"] == 5
    else:
        assert row["sites_trained"] == 4
        assert row["failed"][0]["site"] == "site-2"
        assert f"stage {stage}" in row["failed"][0]["reason"]


def test_below_threshold_the_round_is_discarded_and_the_model_kept(make_config,
                                                                    tmp_path: Path) -> None:
    cfg = make_config("sites=5", "rounds=1", "secagg=secaggplus", "min_sites=2")
    faults = {node_id(i): ("train/mask", CRASH) for i in (0, 1, 2)}
    fed = build_federation(cfg, tmp_path, faults=faults)
    fed.run()
    row = _rows(fed.run_dir)[0]
    assert row["sites_trained"] == 0
    assert any("round discarded" in f["reason"] for f in row["failed"])
    before, after = _model(fed.run_dir, "checkpoints/round-000.pt"), _model(fed.run_dir)
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_dp_sgd_under_secure_aggregation_reports_each_sites_epsilon(make_config,
                                                                     tmp_path: Path) -> None:
    fed = build_federation(make_config("sites=4", "rounds=2", "secagg=secaggplus"), tmp_path)
    fed.run()
    privacy = json.loads((fed.run_dir / "privacy.json").read_text())
    assert all(2.9 < s["run_epsilon"] <= 3.0 for s in privacy["sites"].values())
    assert [r["sites_trained"] for r in _rows(fed.run_dir)] == [4, 4]


def test_a_malformed_payload_drops_only_its_sender(make_config, tmp_path: Path,
                                                   monkeypatch) -> None:
    real = site_mod.wire.dump_masked
    monkeypatch.setattr(site_mod.wire, "dump_masked",
                        lambda m: b"{not json" if m.node == node_id(3) else real(m))
    fed = build_federation(make_config("sites=5", "rounds=1", "secagg=secaggplus"), tmp_path)
    fed.run()
    row = _rows(fed.run_dir)[0]
    assert row["sites_trained"] == 4
    assert row["failed"][0]["site"] == "site-3"
    assert "stage mask: malformed payload" in row["failed"][0]["reason"]
