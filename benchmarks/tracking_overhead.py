"""Claim: W&B tracking (``tracking=wandb``, offline) adds at most 5% to the wall time of a
10-site, 10-round ``privfl simulate``.

Runs the default experiment (10 sites x 10 rounds, digits, DP-SGD at ε=3) as
``privfl simulate tracking=wandb tracking.mode=offline`` and ``tracking=none``
subprocesses, alternating (ABBA...), and compares median wall times. Whole runs on a
shared 2-core machine vary by more than 5% between repeats, so the script also times the
tracker alone in this process, serially (in a run its start overlaps the preflight):
importing wandb and starting, ten rounds of rows taken from a finished run's
``metrics.jsonl``, finishing with its model and run files as artifacts; the first
(cold, with the import) is compared with the tracking=none wall time.

    python benchmarks/tracking_overhead.py [--quick] [--repeats N]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import compose_config, machine_facts, print_table, run_timed, spread, write_result

TARGET = 1.05
ON, OFF = "tracking=wandb (offline)", "tracking=none"
OVERRIDES = {ON: ["tracking=wandb", "tracking.mode=offline"], OFF: ["tracking=none"]}
FOLDER = {ON: "wandb", OFF: "none"}


def measure(kind: str, run_dir: Path, extra: list[str]) -> dict[str, Any]:
    """One ``privfl simulate`` subprocess; its wall time and the ServerApp's split."""
    wall = run_timed(["privfl", "simulate", *extra, *OVERRIDES[kind],
                      f"hydra.run.dir={run_dir}"])
    timing = json.loads((run_dir / "timing.json").read_text())
    if kind == ON:
        assert list((run_dir / "wandb").glob("offline-run-*/run-*.wandb")), "no W&B run"
    return {"kind": kind, "wall_s": wall, "rounds_s": timing["rounds_seconds"],
            "run_dir": str(run_dir)}


def tracker_alone(run_dir: Path, out: Path) -> float:
    """Seconds to track ``run_dir``'s rounds and files from this process, offline."""
    from server.app import TRACKED_FILES
    from server.tracking import open_tracker

    cfg = compose_config(["tracking.mode=offline", "sites=10", "rounds=10"], str(out))
    rows = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    out.mkdir(parents=True)
    for name in TRACKED_FILES:
        if (run_dir / name).is_file():
            (out / name).write_bytes((run_dir / name).read_bytes())
    start = time.perf_counter()
    tracker = open_tracker(cfg).ready()  # waited for: the start is timed too
    for row in rows:
        tracker.log_round(row)
    tracker.finish({"status": "finished", "rounds_completed": len(rows)},
                   [out / name for name in TRACKED_FILES])
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="1 repeat of experiment=quick (3 sites, 2 rounds)")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    extra = ["experiment=quick"] if args.quick else []
    repeats = 1 if args.quick else args.repeats
    facts = machine_facts()
    runs, alone = [], []
    with tempfile.TemporaryDirectory(prefix="privfl-tracking-") as tmp:
        for rep in range(repeats):
            for kind in (ON, OFF) if rep % 2 == 0 else (OFF, ON):
                result = measure(kind, Path(tmp) / f"{rep}-{FOLDER[kind]}", extra)
                result["repeat"] = rep
                runs.append(result)
                print(f"{kind}: wall {result['wall_s']:.1f} s, rounds "
                      f"{result['rounds_s']:.1f} s", flush=True)
        source = Path(next(r["run_dir"] for r in runs if r["kind"] == OFF))
        for rep in range(3):  # the first also imports wandb, as a run's process does
            alone.append(tracker_alone(source, Path(tmp) / f"alone-{rep}"))
    summary = {kind: {key: spread([r[key] for r in runs if r["kind"] == kind])
                      for key in ("wall_s", "rounds_s")} for kind in (ON, OFF)}
    summary["tracker_cold_s"] = alone[0]  # import wandb + start its service + rounds + finish
    summary["tracker_warm_s"] = spread(alone[1:])
    wall_ratio = summary[ON]["wall_s"]["median"] / summary[OFF]["wall_s"]["median"]
    rounds_ratio = summary[ON]["rounds_s"]["median"] / summary[OFF]["rounds_s"]["median"]
    alone_ratio = 1 + alone[0] / summary[OFF]["wall_s"]["median"]
    table = [[kind, *(f"{summary[kind][k]['median']:.1f} ({summary[kind][k]['min']:.1f}-"
                      f"{summary[kind][k]['max']:.1f})" for k in ("wall_s", "rounds_s"))]
             for kind in (ON, OFF)]
    table.append(["ratio wandb / none", f"{wall_ratio:.3f}", f"{rounds_ratio:.3f}"])
    table.append(["tracker alone, cold (import, start, 10 rounds, finish)",
                  f"{alone[0]:.2f} s = {100 * (alone_ratio - 1):.1f}% of the none wall",
                  f"warm {summary['tracker_warm_s']['median']:.2f} s"])
    text = print_table(["run", "wall s, median (min-max)", "rounds s"], table)
    met = wall_ratio <= TARGET
    print(f"wall ratio {wall_ratio:.3f}, tracker alone {alone_ratio:.3f}"
          + ("" if args.quick else f"; target <= {TARGET}: {'yes' if met else 'NO'}"))
    write_result("tracking_overhead", {
        "claim": "tracking=wandb (offline) adds <= 5% wall to a 10-site, 10-round run",
        "command": "python benchmarks/tracking_overhead.py" + (" --quick" if args.quick else ""),
        "quick": args.quick, "overrides": extra, "repeats": repeats, "machine": facts,
        "load_average_after": list(os.getloadavg()),
        "wall_ratio": wall_ratio, "rounds_ratio": rounds_ratio,
        "tracker_alone_ratio": alone_ratio,
        "target_met": met if not args.quick else None,
        "summary": summary, "table": text, "runs": runs, "tracker_alone_runs": alone,
    })


if __name__ == "__main__":
    main()
