"""Claim: DP noise and Poisson sampling from the ChaCha20 CSPRNG cost at most 5% of a
DP-SGD epoch against torch's generator.

For each task (``digits``, ``tabular``: site-0 of the default 10-site partition, the
site's real noise multiplier; ``dp_overhead.Setup``) and per-sample gradient mode
``hooks`` (the default), the seconds per local epoch with the noise drawn from

* ``csprng``: ``privacy.noise.CsprngNoise`` (what every private run uses);
* ``torch``: ``privacy.noise.SeededNoise`` (torch's Mersenne Twister, the old path and
  the ``reproducible=true`` one),

timed once per repeat each, in a shuffled order, at 1 torch thread (a Ray worker with
``simulation.cpus_per_site=1``). The ratio is paired: csprng / torch of the same repeat.

    python benchmarks/csprng_noise.py [--quick] [--repeats N] [--epochs E]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from _common import machine_facts, print_table, spread, write_result
from dp_overhead import TASKS, Setup, time_epochs

from privacy.noise import CsprngNoise, SeededNoise

TARGET_RATIO = 1.05
SOURCES = {"csprng": lambda: CsprngNoise(), "torch": lambda: SeededNoise(time.time_ns())}


def run(repeats: int, epochs: int, overrides: list[str]) -> dict[str, list[dict]]:
    """Time every (task, source) once per repeat, shuffled; return raw samples."""
    torch.set_num_threads(1)
    order = random.Random(0)
    samples: dict[str, list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="privfl-csprng-") as tmp:
        setups = {name: Setup(name, Path(tmp) / name, overrides) for name in TASKS}
        for rep in range(-1, repeats):  # rep -1: warm-up
            for name in order.sample(TASKS, len(TASKS)):
                for source in order.sample(list(SOURCES), len(SOURCES)):
                    sample = time_epochs(setups[name], "hooks", 1 if rep < 0 else epochs,
                                         noise=SOURCES[source]())
                    if rep >= 0:
                        samples.setdefault(f"{name}/{source}", []).append(sample)
            print(f"repeat {rep + 1}/{repeats} done" if rep >= 0 else "warm-up done",
                  flush=True)
        params = {name: sum(p.numel() for p in s.task.build_model().parameters())
                  for name, s in setups.items()}
    return {"samples": samples, "params": params}


def summarise(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """Median epoch seconds per source and the paired csprng / torch ratio per task."""
    out = []
    for name in TASKS:
        csprng, plain = raw["samples"][f"{name}/csprng"], raw["samples"][f"{name}/torch"]
        ratios = [c["epoch_s"] / t["epoch_s"] for c, t in zip(csprng, plain, strict=True)]
        out.append({"task": name, "params": raw["params"][name],
                    "steps_per_epoch": csprng[0]["steps"],
                    "csprng_epoch_s": statistics.median(c["epoch_s"] for c in csprng),
                    "torch_epoch_s": statistics.median(t["epoch_s"] for t in plain),
                    "ratio": spread(ratios), "meets_target": spread(ratios)["median"]
                    <= TARGET_RATIO})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 repeats, 1 epoch")
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    repeats, epochs = (2, 1) if args.quick else (args.repeats, args.epochs)
    rows = summarise(run(repeats, epochs, ["sites=10"]))
    table = print_table(
        ["task", "params", "steps/epoch", "csprng s/epoch", "torch s/epoch",
         "csprng / torch (median, min-max)", f"<= {TARGET_RATIO}"],
        [[r["task"], f"{r['params']:,}", f"{r['steps_per_epoch']:.0f}",
          f"{r['csprng_epoch_s']:.3f}", f"{r['torch_epoch_s']:.3f}",
          f"{r['ratio']['median']:.3f} ({r['ratio']['min']:.3f}-{r['ratio']['max']:.3f})",
          "yes" if r["meets_target"] else "no"] for r in rows])
    write_result("csprng_noise", {
        "command": "python benchmarks/csprng_noise.py" + (" --quick" if args.quick else ""),
        "quick": args.quick, "repeats": repeats, "epochs": epochs, "threads": 1,
        "target_ratio": TARGET_RATIO, "machine": machine_facts(), "rows": rows,
        "table": table})


if __name__ == "__main__":
    main()
