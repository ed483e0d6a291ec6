"""Each metrics.jsonl row says who took part, what each site spent and trained, and how
many bytes crossed the wire; under secure aggregation only sums of the sites' facts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from tests.support.configs import experiment_config
from tests.support.federation import build_federation, node_id
from tests.support.inprocess_grid import CRASH

PLAIN = ("sites=4", "rounds=1", "privacy=none")


def _rows(run_dir: Path) -> list[dict]:
    return [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def plain_and_secure(tmp_path_factory) -> tuple[dict, dict, int]:
    """Round 1 of the same non-private federation (deterministic shuffling, same
    initial model) in the clear and under SecAgg+: the sites train identically."""
    root = tmp_path_factory.mktemp("round-metrics")
    rows = []
    for name, extra in (("plain", ()), ("secure", ("secagg=secaggplus",))):
        cfg = experiment_config(*PLAIN, *extra, output_dir=str(root / name))
        fed = build_federation(cfg, root / name)
        fed.run()
        rows.append(_rows(fed.run_dir)[0])
    model = torch.load(fed.run_dir / "model.pt")
    model_bytes = sum(t.numel() * t.element_size() for t in model.values())
    return rows[0], rows[1], model_bytes


def test_plain_rows_hold_each_sites_training_facts(plain_and_secure) -> None:
    plain, _, _ = plain_and_secure
    assert (plain["sites_sampled"], plain["sites_trained"], plain["sites_dropped"],
            plain["sites_refused"]) == (4, 4, 0, 0)
    assert sorted(plain["site_train"]) == [f"site-{i}" for i in range(4)]
    for facts in plain["site_train"].values():
        assert facts["examples"] > 0 and facts["train_loss"] > 0
        assert facts["clipped"] is None and facts["clipped_fraction"] is None  # no DP-SGD
    assert plain["secure_train"] is None and plain["site_run_epsilon"] is None


def test_secure_rows_hold_only_the_sums_and_they_match(plain_and_secure) -> None:
    plain, secure, _ = plain_and_secure
    assert secure["site_train"] is None
    sums = secure["secure_train"]
    facts = plain["site_train"].values()
    assert sums["sites"] == 4
    assert sums["examples"] == sum(f["examples"] for f in facts)
    assert sums["mean_train_loss"] == pytest.approx(
        sum(f["train_loss"] for f in facts) / 4, abs=1e-5)
    assert "clipped" not in sums  # no site ran DP-SGD


def test_bytes_cover_the_model_each_way(plain_and_secure) -> None:
    plain, secure, model_bytes = plain_and_secure
    # train + evaluate: the global model to each of 4 sites; the trained model back
    assert 8 * model_bytes < plain["bytes_sent"] < 8 * model_bytes + 4 * 8 * 2048
    assert 4 * model_bytes < plain["bytes_received"] < 4 * model_bytes + 8 * 2048
    # SecAgg+: no federated evaluation (per-site metrics), the model once to each site in
    # the mask stage; masked vectors of 6-byte values and four stages cost more back
    assert plain["federated_evaluation"] and not secure["federated_evaluation"]
    assert 4 * model_bytes < secure["bytes_sent"] < plain["bytes_sent"]
    assert secure["bytes_received"] > plain["bytes_received"]


def test_dp_rows_hold_each_sites_epsilon_and_clipping(make_config, tmp_path) -> None:
    fed = build_federation(make_config("sites=4", "rounds=1"), tmp_path,
                           faults={node_id(3): ("train", CRASH)})
    fed.run()
    (row,) = _rows(fed.run_dir)
    assert (row["sites_sampled"], row["sites_trained"], row["sites_dropped"]) == (4, 3, 1)
    privacy = json.loads((fed.run_dir / "privacy.json").read_text())["sites"]
    assert row["site_run_epsilon"] == {s: privacy[s]["run_epsilon"]
                                       for s in ("site-0", "site-1", "site-2")}
    assert row["max_run_epsilon"] == max(row["site_run_epsilon"].values())
    for facts in row["site_train"].values():
        assert 0 <= facts["clipped"] <= facts["examples"]
        assert facts["clipped_fraction"] == pytest.approx(facts["clipped"] / facts["examples"])
