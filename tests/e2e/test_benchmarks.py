"""Every benchmark stays runnable: a ``--quick`` smoke run of each, its JSON checked."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
QUICK = ("audit", "csprng_noise", "dp_overhead", "mask_expansion", "privacy_utility",
         "secagg_cost", "simulate_walltime", "synth_quality", "tracking_overhead",
         "warm_start")


def test_every_benchmark_with_a_quick_mode_is_listed() -> None:
    """deploy_walltime is the one without --quick: it runs a real 3-site deployment."""
    scripts = {p.stem for p in (ROOT / "benchmarks").glob("*.py") if not p.stem.startswith("_")}
    assert scripts - set(QUICK) == {"deploy_walltime"}


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
