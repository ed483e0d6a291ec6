"""privacy.json under the PRV accountant equals an independent Opacus recomputation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from opacus.accountants import PRVAccountant

from privacy.ledger import Ledger
from tests.support.federation import build_federation


def test_prv_accountant_through_a_whole_federation(make_config, tmp_path: Path) -> None:
    fed = build_federation(make_config("sites=3", "rounds=2", "privacy.accountant=prv"),
                           tmp_path)
    fed.run()
    privacy = json.loads((fed.run_dir / "privacy.json").read_text())
    assert privacy["accountant"] == "prv"
    for i in range(3):
        site = privacy["sites"][f"site-{i}"]
        assert site["accountant"] == "prv" and site["unit"] == "record"
        independent = PRVAccountant()
        independent.history = [(site["noise_multiplier"], site["sample_rate"], site["steps"])]
        assert site["run_epsilon"] == pytest.approx(independent.get_epsilon(1e-5), rel=1e-6)
        assert site["run_epsilon"] <= 3.0
        assert Ledger.load(fed.ledger(i)).accountant == "prv"
    line = json.loads((fed.run_dir / "metrics.jsonl").read_text().splitlines()[-1])
    assert line["epsilon_accountant"] == "prv"
