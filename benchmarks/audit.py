"""Claim: the one-run audit's empirical ε lower bound stays below the claimed ε for DP-SGD
at ε = 1, 3, 8, and is clearly positive for non-private training.

Runs ``privfl audit`` (in-process: ``simulations.audit.run_audit_command``, the CLI's own
code, composed with Hydra from ``conf/audit.yaml``) on site-0 of the default digits
federation (10 sites, ``rounds`` x ``local_epochs`` of the site's training, DP-SGD
calibrated on the actual training rows) with m mislabeled canaries, at each ε and
non-private with the same settings, plus a non-private run built to memorise (many
local epochs). Each setting is repeated with different ``audit.seed`` (other canaries,
other inclusion coins; DP noise from OS entropy). Torch runs on one thread, as a Ray
worker with ``simulation.cpus_per_site=1`` does.

    python benchmarks/audit.py [--quick] [--canaries M] [--repeats N]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch
from _common import machine_facts, print_table, write_result
from hydra import compose, initialize_config_module

from simulations.audit import run_audit_command

NON_PRIVATE = "none"
MEMORISING = "none, memorising"


def audit(overrides: list[str], out: Path) -> dict:
    """One audit through the CLI's code; its audit.json object plus wall seconds."""
    with initialize_config_module(config_module="conf", version_base="1.3"):
        raw = compose("audit", overrides=[*overrides, f"output_dir={out}"])
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        record = run_audit_command(raw, overrides)
    record["wall_s"] = time.perf_counter() - start
    return record


def setting_overrides(setting: str, memorising_epochs: int) -> list[str]:
    if setting == NON_PRIVATE:
        return ["privacy=none"]
    if setting == MEMORISING:
        return ["privacy=none", "rounds=1", f"local_epochs={memorising_epochs}"]
    return [f"privacy.epsilon={setting}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="m=100, rounds=2, one repeat")
    parser.add_argument("--canaries", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--memorising-epochs", type=int, default=30)
    parser.add_argument("--epsilons", default="1,3,8")
    args = parser.parse_args()
    canaries = 100 if args.quick else args.canaries
    rounds = 2 if args.quick else args.rounds
    repeats = 1 if args.quick else args.repeats
    settings = [*args.epsilons.split(","), NON_PRIVATE, MEMORISING]
    torch.set_num_threads(1)
    facts = machine_facts()
    runs = []
    with tempfile.TemporaryDirectory(prefix="privfl-audit-") as tmp:
        for seed in range(repeats):
            for setting in settings:
                overrides = [f"rounds={rounds}", *setting_overrides(setting,
                                                                    args.memorising_epochs),
                             f"audit.canaries={canaries}", f"audit.seed={seed}"]
                record = audit(overrides, Path(tmp) / f"{setting}-{seed}".replace(", ", "-"))
                record.update(setting=setting, overrides=overrides)
                runs.append(record)
                print(f"ε={setting} seed {seed}: bound {record['epsilon_lower_bound']:.3f} "
                      f"({record['correct']}/{record['guesses']} correct), claimed "
                      f"{record['claimed_epsilon']}, {record['wall_s']:.0f} s", flush=True)
    table = []
    for setting in settings:
        mine = [r for r in runs if r["setting"] == setting]
        bounds = [r["epsilon_lower_bound"] for r in mine]
        first = mine[0]
        claimed = ("none (NOT private)" if first["claimed_epsilon"] is None else
                   f"{first['claimed_epsilon']:.2f} ({first['accountant']}, "
                   f"δ={first['delta']:g}, unit={first['unit']})")
        spread = (f"{statistics.median(bounds):.2f}" if len(bounds) == 1 else
                  f"{statistics.median(bounds):.2f} ({min(bounds):.2f}-{max(bounds):.2f})")
        best = max(mine, key=lambda r: r["epsilon_lower_bound"])
        table.append([setting, claimed, spread, f"{best['correct']}/{best['guesses']}",
                      f"{statistics.median(r['mean_loss_included'] for r in mine):.2f} / "
                      f"{statistics.median(r['mean_loss_excluded'] for r in mine):.2f}",
                      f"{first['rounds']} x {first['local_epochs']}",
                      f"{statistics.median(r['wall_s'] for r in mine):.0f}"])
    text = print_table(["privacy", "claimed ε", "ε lower bound at 95%, median (min-max)",
                        "best correct/guesses", "canary loss in / out", "rounds x epochs",
                        "wall s"], table)
    below = all(r["epsilon_lower_bound"] <= r["claimed_epsilon"] for r in runs
                if r["claimed_epsilon"] is not None)
    print(f"every DP bound <= its claimed ε: {'yes' if below else 'NO'}")
    write_result("audit", {
        "claim": "one-run audit (black-box loss attack): ε lower bound <= claimed ε for "
                 "DP-SGD at ε = 1, 3, 8; positive for non-private training",
        "command": "python benchmarks/audit.py" + (" --quick" if args.quick else
                   f" --canaries {canaries} --rounds {rounds} --repeats {repeats}"),
        "quick": args.quick, "canaries": canaries, "rounds": rounds, "repeats": repeats,
        "task": "digits, site-0 of 10 (iid)", "confidence": 0.95,
        "all_dp_bounds_below_claim": below, "machine": facts,
        "load_average_after": list(os.getloadavg()), "table": text,
        "runs": [{k: v for k, v in r.items() if k != "candidates"} | {
            "candidates": r["candidates"]} for r in runs],
    })


if __name__ == "__main__":
    main()
