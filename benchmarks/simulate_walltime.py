"""Claim: the default ``privfl simulate`` finishes in <= 90 s wall on a laptop-class machine.

Runs ``privfl simulate hydra.run.dir=<temp>`` (nothing else: the default experiment,
10 sites x 10 rounds, digits, DP-SGD at ε=3) as a subprocess and splits its wall time:

* ``preflight`` (``timing.json``): ServerApp start until every site answered its
  preflight: Ray start, actor spawn, imports in the workers, data loading, noise
  calibration;
* ``rounds`` (``timing.json``; per round in ``metrics.jsonl``);
* ``start-up`` = wall - preflight - rounds: the process before the ServerApp (imports,
  Hydra, writing the sites' data files) and after it (outputs, Ray shutdown).

For comparison the same experiment runs through the in-process harness of the tests
(``tests/support/federation.py``: the real ServerApp and ClientApp, no Ray, sites one
after another in one process), also as a subprocess, so the difference shows the cost of
the Simulation Runtime. The two kinds of run alternate.

    python benchmarks/simulate_walltime.py [--quick] [--repeats N] [--no-inprocess]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from _common import (
    compose_config,
    machine_facts,
    print_table,
    run_timed,
    spread,
    write_result,
)

TARGET_S = 90.0
RAY, INPROCESS = "privfl simulate (Ray)", "in-process harness (no Ray)"


def inprocess_child(root: Path, overrides: list[str]) -> None:
    """In a fresh process: the default experiment through ``tests.support.federation``."""
    from tests.support.federation import build_federation

    cfg = compose_config(overrides, str(root / "run"))
    build_federation(cfg, root).run()


def measure(kind: str, run_root: Path, overrides: list[str]) -> dict[str, Any]:
    """Run one simulation of ``kind`` as a subprocess; split its wall time."""
    if kind == RAY:
        run_dir = run_root
        command = ["privfl", "simulate", *overrides, f"hydra.run.dir={run_dir}"]
    else:
        run_dir = run_root / "run"
        command = [sys.executable, __file__, "--inprocess-child", str(run_root), *overrides]
    wall = run_timed(command)
    timing = json.loads((run_dir / "timing.json").read_text())
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return {
        "kind": kind,
        "wall_s": wall,
        "preflight_s": timing["preflight_seconds"],
        "rounds_s": timing["rounds_seconds"],
        "startup_s": wall - timing["preflight_seconds"] - timing["rounds_seconds"],
        "round_s": [r["round_seconds"] for r in rows],
        "rounds_done": len(rows),
        "accuracy": rows[-1]["accuracy"],
    }


def main() -> None:
    """Alternate Ray and in-process runs, print the split, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="1 repeat of experiment=quick (3 sites, 2 rounds)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-inprocess", action="store_true",
                        help="only the real privfl simulate")
    parser.add_argument("--inprocess-child", metavar="DIR", help=argparse.SUPPRESS)
    args, overrides = parser.parse_known_args()
    if args.inprocess_child:
        inprocess_child(Path(args.inprocess_child), overrides)
        return
    overrides = ["experiment=quick"] if args.quick else []
    repeats = 1 if args.quick else args.repeats
    kinds = [RAY] if args.no_inprocess else [RAY, INPROCESS]
    facts = machine_facts()
    runs = []
    with tempfile.TemporaryDirectory(prefix="privfl-walltime-") as tmp:
        for rep in range(repeats):
            for kind in kinds if rep % 2 == 0 else kinds[::-1]:
                result = measure(kind, Path(tmp) / f"{rep}-{kinds.index(kind)}", overrides)
                result["repeat"] = rep
                runs.append(result)
                print(f"{kind}: wall {result['wall_s']:.1f} s (start-up "
                      f"{result['startup_s']:.1f}, preflight {result['preflight_s']:.1f}, "
                      f"rounds {result['rounds_s']:.1f})", flush=True)
    summary = {}
    table = []
    for kind in kinds:
        mine = [r for r in runs if r["kind"] == kind]
        parts = {key: spread([r[key] for r in mine])
                 for key in ("wall_s", "startup_s", "preflight_s", "rounds_s")}
        parts["round_s"] = spread([s for r in mine for s in r["round_s"]])
        summary[kind] = parts
        table.append([kind] + [f"{parts[k]['median']:.1f} ({parts[k]['min']:.1f}-"
                               f"{parts[k]['max']:.1f})"
                               for k in ("wall_s", "startup_s", "preflight_s", "rounds_s",
                                         "round_s")])
    text = print_table(["run", "wall s", "start-up s", "preflight s", "rounds s",
                        "per round s"], table)
    wall = summary[RAY]["wall_s"]["median"]
    verdict = "yes" if wall <= TARGET_S else "NO"
    print(f"median wall {wall:.1f} s" + ("" if args.quick else
          f"; default privfl simulate <= {TARGET_S:.0f} s: {verdict}"))
    write_result("simulate_walltime", {
        "claim": f"default privfl simulate <= {TARGET_S:.0f} s wall",
        "command": "python benchmarks/simulate_walltime.py" + (" --quick" if args.quick else ""),
        "quick": args.quick, "overrides": overrides, "repeats": repeats,
        "machine": facts, "load_average_after": list(os.getloadavg()),
        "target_met": wall <= TARGET_S if not args.quick else None,
        "summary": summary, "table": text, "runs": runs,
    })


if __name__ == "__main__":
    main()
