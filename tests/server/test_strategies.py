"""Each of Flower's strategies privfl offers runs DP-SGD rounds and moves the model."""

from __future__ import annotations

import json
import typing
from pathlib import Path

import pytest
import torch

from conf.schema import StrategyName
from server.strategies.registry import STRATEGIES, build_strategy
from tests.support.federation import build_federation


def test_registry_matches_the_schema() -> None:
    assert set(STRATEGIES) == set(typing.get_args(StrategyName))


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_strategy_runs_and_updates_the_model(make_config, tmp_path: Path, name: str) -> None:
    cfg = make_config(f"strategy={name}", "sites=3", "rounds=2")
    assert type(build_strategy(cfg)).__name__.lower() == name
    fed = build_federation(cfg, tmp_path)
    fed.run()
    rows = [json.loads(x) for x in (fed.run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["sites_trained"] for r in rows] == [3, 3]
    assert 2.9 < rows[-1]["max_run_epsilon"] <= 3.0
    assert rows[-1]["federated_evaluation"]["eval-accuracy"] > 0
    before = torch.load(fed.run_dir / "checkpoints/round-000.pt")
    after = torch.load(fed.run_dir / "model.pt")
    assert any(not torch.equal(before[k], after[k]) for k in before)
