"""Federated publication through the real Simulation Runtime (Ray): three tabular sites
publish DP MST tables, the coordinator pools them with provenance and warm-starts the
model, and each site's ε for the run (synthesis + two DP-SGD rounds) stays within
privacy.epsilon."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from privacy.events import DpSgdEvent, GaussianEvent
from privacy.ledger import Ledger
from synthetic.dp.accounting import MST_LABEL
from tests.e2e.conftest import run_privfl

pytestmark = pytest.mark.slow


def test_three_sites_publish_dp_tables_and_warm_start_through_ray(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    result = run_privfl("simulate", "task=tabular", "sites=3", "rounds=2",
                        "synthetic.publish=true", "synthetic.warm_start=true",
                        f"hydra.run.dir={run_dir}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "synthetic publication (dp_mst ε=1 per site, inside privacy.epsilon)" in result.stdout
    assert "synthetic: pooled " in result.stdout and "from 3/3 sites" in result.stdout
    assert "warm start epoch 5/5" in result.stdout

    pooled = pd.read_csv(run_dir / "synthetic" / "pooled.csv")
    assert pooled.columns[0] == "site"
    assert set(pooled["site"]) == {"site-0", "site-1", "site-2"}
    provenance = json.loads((run_dir / "synthetic" / "provenance.json").read_text())
    assert provenance["pooled_rows"] == len(pooled)
    for name, entry in provenance["sites"].items():
        assert entry["status"] == "published"
        assert entry["rows"] == int((pooled["site"] == name).sum())
        assert entry["privacy"]["epsilon"] == 1.0 and entry["privacy"]["unit"] == "record"

    privacy = json.loads((run_dir / "privacy.json").read_text())
    for i in range(3):
        site = privacy["sites"][f"site-{i}"]
        assert site["rounds_trained"] == 2
        assert 2.98 < site["run_epsilon"] <= 3.0  # synthesis + DP-SGD, composed
        assert site["synthesis"]["included_in_run_epsilon"] is True
        ledger = Ledger.load(run_dir / "ledgers" / f"site-{i}.json")
        synthesis, *rounds = ledger.events
        assert isinstance(synthesis, GaussianEvent) and synthesis.label == MST_LABEL
        assert synthesis.round == 0
        assert [type(e) for e in rounds] == [DpSgdEvent, DpSgdEvent]
        assert ledger.spent() == pytest.approx(site["run_epsilon"])

    rows = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["round"] for r in rows] == [0, 1, 2]
    assert rows[0]["stage"] == "warm_start" and rows[0]["warm_start_rows"] > 0
    assert rows[0]["accuracy_before_warm_start"] is not None
