"""Helpers shared by the benchmark scripts: config composition, machine facts, statistics,
tables and result files. Not a benchmark itself."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
if str(ROOT) not in sys.path:  # `tests.support` is not installed; the checkout is the root
    sys.path.insert(0, str(ROOT))


def compose_config(overrides: Sequence[str], output_dir: str = "/tmp/privfl-bench") -> Any:
    """The validated ``ExperimentConfig`` that ``privfl simulate <overrides>`` would run.

    Composed with Hydra's compose API from the packaged ``conf`` groups and checked by
    ``conf.validate.validate``; ``output_dir`` replaces ``${hydra:runtime.output_dir}``,
    which only exists inside a Hydra app.
    """
    from hydra import compose, initialize_config_module
    from omegaconf import OmegaConf

    from conf.validate import validate

    with initialize_config_module(config_module="conf", version_base="1.3"):
        raw = compose("config", overrides=[*overrides, f"output_dir={output_dir}"])
    return validate(OmegaConf.to_container(raw, resolve=True))


def machine_facts() -> dict[str, Any]:
    """Cores, torch threads, versions and current load: what the numbers depend on."""
    import torch

    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "torch_threads_default": torch.get_num_threads(),
        "load_average_1_5_15": list(os.getloadavg()),
        "python": platform.python_version(),
        "versions": {p: version(p) for p in ("torch", "opacus", "flwr", "hydra-core", "ray")},
    }


def _cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else the machine type."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def spread(values: Sequence[float]) -> dict[str, float]:
    """Median, min, max and count of repeated measurements."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "n": len(values)}


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Print (and return) a Markdown table, so it can be pasted into docs/benchmarks.md."""
    cells = [[str(c) for c in row] for row in rows]
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    text = "\n".join(lines)
    print(text, flush=True)
    return text


def write_result(name: str, payload: dict[str, Any]) -> Path:
    """Write ``benchmarks/results/<name>.json`` atomically (temp file, then rename).

    A ``--quick`` smoke run (``payload["quick"]``) writes ``<name>_quick.json`` instead,
    so it never replaces the full results that docs/benchmarks.md quotes.
    """
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}{'_quick' if payload.get('quick') else ''}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    tmp.replace(path)
    print(f"wrote {path.relative_to(ROOT)}", flush=True)
    return path


def run_timed(command: Sequence[str]) -> float:
    """Run ``command`` from the repository root; its wall seconds (RuntimeError on failure)."""
    start = time.perf_counter()
    proc = subprocess.run(list(command), cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({proc.returncode}):\n"
                           f"{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return wall
