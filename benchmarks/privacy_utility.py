"""Claim: the privacy-utility trade-off of the default federation, and non-private
federated digits reaching >= 90% held-out accuracy.

Runs the real ``privfl simulate`` (a subprocess each, Flower's Simulation Runtime) for
``digits`` and ``tabular`` on 10 sites at ε = 1, 3, 8 per site and with ``privacy=none``,
every run with the same rounds and local epochs, and reads the run directory: the last
row of ``metrics.jsonl`` (global accuracy on the server's held-out set) and
``privacy.json`` (the largest ε any site actually spent in the run, with accountant, δ
and unit).

    python benchmarks/privacy_utility.py [--quick] [--rounds R] [--local-epochs E]
        [--tasks digits,tabular] [--epsilons 1,3,8] [--repeats N]
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

DIGITS_TARGET = 0.90
NON_PRIVATE = "none"


def simulate(overrides: list[str], run_dir: Path) -> dict[str, Any]:
    """Run ``privfl simulate <overrides>`` into ``run_dir``; return what the run recorded."""
    command = ["privfl", "simulate", *overrides, f"hydra.run.dir={run_dir}"]
    wall = run_timed(command)
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    privacy = json.loads((run_dir / "privacy.json").read_text())
    spent = [s["run_epsilon"] for s in privacy["sites"].values() if "run_epsilon" in s]
    sites = list(privacy["sites"].values())
    return {
        "overrides": overrides,
        "wall_s": wall,
        "accuracy": rows[-1]["accuracy"],
        "accuracy_by_round": [r["accuracy"] for r in rows],
        "rounds_done": len(rows),
        "max_site_epsilon": max(spent) if spent else None,
        "accountant": privacy["accountant"],
        "delta": sites[0].get("delta") if spent else None,
        "unit": privacy["unit"],
        "private": privacy["private"],
        "noise_multiplier": sorted({s["noise_multiplier"] for s in sites if spent}),
        "sites_trained_last_round": rows[-1]["sites_trained"],
    }


def main() -> None:
    """Run the grid of (task, ε) simulations, print the table, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 sites, 2 rounds, digits only")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--local-epochs", type=int, default=1)
    parser.add_argument("--tasks", default="digits,tabular")
    parser.add_argument("--epsilons", default="1,3,8")
    parser.add_argument("--repeats", type=int, default=2,
                        help="runs per setting (DP noise differs from run to run)")
    parser.add_argument("--name", default="privacy_utility", help="result file name")
    args = parser.parse_args()
    tasks = ["digits"] if args.quick else args.tasks.split(",")
    rounds = 2 if args.quick else args.rounds
    settings: list[str] = [*args.epsilons.split(","), NON_PRIVATE]
    common = [f"rounds={rounds}", f"local_epochs={args.local_epochs}"]
    if args.quick:
        common.append("sites=3")
    facts = machine_facts()
    results = []
    with tempfile.TemporaryDirectory(prefix="privfl-utility-") as tmp:
        for rep in range(args.repeats):
            for task in tasks:
                for setting in settings:
                    privacy = (["privacy=none"] if setting == NON_PRIVATE
                               else [f"privacy.epsilon={setting}"])
                    run_dir = Path(tmp) / f"{task}-{setting}-{rep}"
                    result = simulate([f"task={task}", *privacy, *common], run_dir)
                    result.update(task=task, setting=setting, repeat=rep)
                    results.append(result)
                    print(f"{task} ε={setting}: accuracy {result['accuracy']:.3f}, "
                          f"{result['wall_s']:.0f} s", flush=True)
    table = []
    for task in tasks:
        for setting in settings:
            runs = [r for r in results if r["task"] == task and r["setting"] == setting]
            accs = [r["accuracy"] for r in runs]
            first = runs[0]
            eps = (f"{max(r['max_site_epsilon'] for r in runs):.2f} (target {setting}; "
                   f"{first['accountant']}, δ={first['delta']:g}, unit={first['unit']})"
                   if setting != NON_PRIVATE else "none (NOT private)")
            acc = (f"{statistics.median(accs):.3f}" if len(accs) == 1 else
                   f"{statistics.median(accs):.3f} ({min(accs):.3f}-{max(accs):.3f})")
            table.append([task, eps, acc, first["rounds_done"], args.local_epochs,
                          f"{statistics.median(r['wall_s'] for r in runs):.0f}"])
    text = print_table(["task", "max ε spent by a site", "final accuracy", "rounds",
                        "local epochs", "wall s"], table)
    digits_np = [r["accuracy"] for r in results
                 if r["task"] == "digits" and r["setting"] == NON_PRIVATE]
    met = bool(digits_np) and statistics.median(digits_np) >= DIGITS_TARGET
    if digits_np and not args.quick:
        print(f"non-private federated digits >= {DIGITS_TARGET:.0%}: {'yes' if met else 'NO'}")
    write_result(args.name, {
        "claim": f"non-private federated digits >= {DIGITS_TARGET:.0%} accuracy; "
                 "accuracy at ε = 1, 3, 8",
        "command": "python benchmarks/privacy_utility.py " + " ".join(
            f"--{k.replace('_', '-')}={v}" for k, v in vars(args).items()
            if k not in ("quick", "name")) + (" --quick" if args.quick else ""),
        "quick": args.quick, "rounds": rounds, "local_epochs": args.local_epochs,
        "machine": facts, "load_average_after": list(os.getloadavg()),
        "digits_nonprivate_target_met": met if digits_np and not args.quick else None,
        "table": text, "runs": results,
    })


if __name__ == "__main__":
    main()
