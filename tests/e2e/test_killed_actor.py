"""A ClientApp actor killed mid-run through the real Simulation Runtime (Ray): the run
stops at the first round below ``min_sites`` (exit 3, reason), never trains on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.dying_site_app import ROUND_ENV, SITE_ENV

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


def test_a_killed_actor_below_min_sites_stops_the_run_with_exit_3(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": path, SITE_ENV: "site-1",
           ROUND_ENV: "2"}
    code = ("import sys; from tests.support.dying_site_app import simulate; "
            "sys.exit(simulate(sys.argv[1:]))")
    done = subprocess.run([sys.executable, "-c", code, "sites=3", "rounds=4", "min_sites=3",
                           "privacy=none", "strategy.round_timeout=60",
                           f"hydra.run.dir={run_dir}"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 3, done.stdout[-2000:] + done.stderr[-3000:]
    outcome = json.loads((run_dir / "outcome.json").read_text())
    assert outcome["status"] == "stopped" and outcome["rounds_completed"] == 1, outcome
    assert outcome["reason"].startswith("round 2: only "), outcome["reason"]
    assert "of 3 sampled site(s) trained, min_sites=3; the round is not aggregated" in (
        outcome["reason"])
    assert "site-1: The actor is dead" in outcome["reason"]
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [row["round"] for row in rows] == [1]  # nothing trained or aggregated after
    assert "privfl run stopped (round 2: only" in done.stdout
