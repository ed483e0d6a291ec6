"""Claim: does a warm start on the sites' pooled DP synthetic tables help final accuracy
at a fixed total record-level ε per site?

Runs the real ``privfl simulate`` (a subprocess each, Flower's Simulation Runtime) for
``task=tabular`` on 10 sites with the same rounds and local epochs, at each total ε:

- ``dp_sgd only``: no publication, DP-SGD gets all of ``privacy.epsilon``;
- ``warm start``: each site publishes a DP MST table with ``synthetic.epsilon`` = share x ε
  and DP-SGD is calibrated so that synthesis + rounds compose (rdp) to the same ε; the
  coordinator trains the initial model on the pooled table before round 1.

It reads ``metrics.jsonl`` (round-0 warm-start row, final accuracy and loss on the
server's held-out set; the untrained model scores 0.266 / 0.725 there, the majority
class 0.734) and ``privacy.json`` (the largest ε any site spent in the run, with
accountant, δ and unit, and the DP-SGD noise multiplier).

    python benchmarks/warm_start.py [--quick] [--epsilons 1,3] [--rounds R] [--sites N]
        [--share 0.5] [--repeats N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
from pathlib import Path
from typing import Any

from _common import machine_facts, print_table, run_timed, write_result

ARMS = ("dp_sgd only", "warm start")


def simulate(overrides: list[str], run_dir: Path) -> dict[str, Any]:
    """Run ``privfl simulate <overrides>`` into ``run_dir``; return what the run recorded."""
    wall = run_timed(["privfl", "simulate", *overrides, f"hydra.run.dir={run_dir}"])
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    warm = next((r for r in rows if r.get("stage") == "warm_start"), None)
    rounds = [r for r in rows if r["round"] > 0]
    privacy = json.loads((run_dir / "privacy.json").read_text())
    sites = [s for s in privacy["sites"].values() if "run_epsilon" in s]
    timing = json.loads((run_dir / "timing.json").read_text())
    return {
        "overrides": overrides,
        "wall_s": wall,
        "accuracy": rounds[-1]["accuracy"],
        "loss": rounds[-1]["loss"],
        "accuracy_by_round": [r["accuracy"] for r in rounds],
        "loss_by_round": [r["loss"] for r in rounds],
        "round0_accuracy": warm["accuracy"] if warm else None,
        "round0_loss": warm["loss"] if warm else None,
        "accuracy_before_warm_start": warm["accuracy_before_warm_start"] if warm else None,
        "loss_before_warm_start": warm["loss_before_warm_start"] if warm else None,
        "warm_start_rows": warm["warm_start_rows"] if warm else None,
        "warm_start_rows_dropped": warm["warm_start_rows_dropped"] if warm else None,
        "rounds_done": len(rounds),
        "max_site_epsilon": max(s["run_epsilon"] for s in sites),
        "accountant": privacy["accountant"],
        "delta": sites[0]["delta"],
        "unit": privacy["unit"],
        "noise_multiplier": sorted({round(s["noise_multiplier"], 4) for s in sites}),
        "sites_trained_last_round": rounds[-1]["sites_trained"],
        "synthetic_seconds": timing.get("synthetic_seconds"),
    }


def main() -> None:
    """Run both arms at each ε, print the table, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 sites, 2 rounds, ε=3, once")
    parser.add_argument("--epsilons", default="1,3")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--local-epochs", type=int, default=1)
    parser.add_argument("--sites", type=int, default=10)
    parser.add_argument("--share", type=float, default=0.5,
                        help="synthetic.epsilon as a share of the total ε")
    parser.add_argument("--warm-start-epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs per setting (DP noise differs from run to run)")
    parser.add_argument("--name", default="warm_start", help="result file name")
    args = parser.parse_args()
    epsilons = ["3"] if args.quick else args.epsilons.split(",")
    rounds, sites = (2, 3) if args.quick else (args.rounds, args.sites)
    repeats = 1 if args.quick else args.repeats
    common = ["task=tabular", f"sites={sites}", f"rounds={rounds}",
              f"local_epochs={args.local_epochs}"]
    facts = machine_facts()
    results = []
    with tempfile.TemporaryDirectory(prefix="privfl-warm-") as tmp:
        for rep in range(repeats):
            for eps in epsilons:
                synth_eps = round(float(eps) * args.share, 6)
                arms = {
                    ARMS[0]: [f"privacy.epsilon={eps}"],
                    ARMS[1]: [f"privacy.epsilon={eps}", "synthetic.publish=true",
                              "synthetic.warm_start=true", f"synthetic.epsilon={synth_eps}",
                              f"synthetic.warm_start_epochs={args.warm_start_epochs}"],
                }
                for arm, overrides in arms.items():
                    run_dir = Path(tmp) / f"{eps}-{arm.replace(' ', '_')}-{rep}"
                    result = simulate([*common, *overrides], run_dir)
                    result.update(epsilon=float(eps), arm=arm, repeat=rep,
                                  synthetic_epsilon=synth_eps if arm == ARMS[1] else None)
                    results.append(result)
                    print(f"ε={eps} {arm}: accuracy {result['accuracy']:.3f} "
                          f"(round 0: {result['round0_accuracy']}), {result['wall_s']:.0f} s",
                          flush=True)
    table = []
    for eps in epsilons:
        for arm in ARMS:
            runs = [r for r in results if r["epsilon"] == float(eps) and r["arm"] == arm]
            first = runs[0]
            spent = (f"{max(r['max_site_epsilon'] for r in runs):.3f} ({first['accountant']}, "
                     f"δ={first['delta']:g}, unit={first['unit']})")
            sigma = sorted({s for r in runs for s in r["noise_multiplier"]})
            warm = [r for r in runs if r["round0_accuracy"] is not None]
            round0 = (f"{_spread([r['round0_accuracy'] for r in warm])} / "
                      f"{_spread([r['round0_loss'] for r in warm])}") if warm else "-"
            table.append([
                eps, arm,
                f"{first['synthetic_epsilon']:g}" if first["synthetic_epsilon"] else "-",
                f"{min(sigma):.3f}-{max(sigma):.3f}" if len(sigma) > 1 else f"{sigma[0]:.3f}",
                round0,
                _spread([r["accuracy"] for r in runs]),
                _spread([r["loss"] for r in runs]),
                spent, len(runs),
                f"{statistics.median(r['wall_s'] for r in runs):.0f}",
            ])
    text = print_table(["total ε per site", "arm", "synthesis ε", "DP-SGD σ",
                        "round 0 accuracy / loss", "final accuracy", "final loss",
                        "max ε spent by a site", "runs", "wall s"], table)
    write_result(args.name, {
        "claim": "final accuracy with and without a warm start on pooled DP synthetic tables "
                 "at the same total record-level ε per site and the same rounds",
        "command": "python benchmarks/warm_start.py " + " ".join(
            f"--{k.replace('_', '-')}={v}" for k, v in vars(args).items()
            if k not in ("quick", "name")) + (" --quick" if args.quick else ""),
        "quick": args.quick, "rounds": rounds, "sites": sites,
        "local_epochs": args.local_epochs, "share": args.share,
        "machine": facts, "load_average_after": list(os.getloadavg()),
        "table": text, "runs": results,
    })


def _spread(values: list[float]) -> str:
    median = statistics.median(values)
    if len(values) == 1:
        return f"{median:.3f}"
    return f"{median:.3f} ({min(values):.3f}-{max(values):.3f})"


if __name__ == "__main__":
    main()
