"""Every benchmark stays runnable: a ``--quick`` smoke run of each, its JSON checked."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
QUICK = ("audit", "csprng_noise", "dp_overhead", "mask_expansion", "secagg_cost",
         "secure_aggregate", "synth_quality")
NOT_IN_CI = {
    "deploy_walltime": "no --quick mode: a real 3-site deployment plus a simulation",
    "privacy_utility": "its --quick mode is a sweep of Ray runs (minutes on 2 cores)",
    "warm_start": "its --quick mode takes ~3.5 min on 2 cores",
    "simulate_walltime": "its --quick mode is whole Ray runs (~55 s on 2 cores); the same "
                         "runs are covered by tests/e2e/test_simulate.py",
    "tracking_overhead": "its --quick mode is whole Ray runs with and without W&B (~75 s on "
                         "2 cores); tracking is covered by tests/e2e/test_tracking.py",
}


def test_every_benchmark_is_smoke_run_or_says_why_not() -> None:
    scripts = {p.stem for p in (ROOT / "benchmarks").glob("*.py") if not p.stem.startswith("_")}
    assert scripts - set(QUICK) == set(NOT_IN_CI)


@pytest.mark.parametrize("name", QUICK)
def test_quick_run_writes_its_result(name: str) -> None:
    result = ROOT / "benchmarks" / "results" / f"{name}_quick.json"
    result.unlink(missing_ok=True)
    proc = subprocess.run([sys.executable, f"benchmarks/{name}.py", "--quick"], cwd=ROOT,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    payload = json.loads(result.read_text())
    assert payload["quick"] is True
    assert "| " in proc.stdout  # the table it prints
