"""Claim: DP-SGD costs at most 1.5x the time of a non-private epoch at a site.

Measures, for each task (``digits``, ``tabular``; the real ``conf/task/*.yaml`` through
Hydra's compose API) and each Opacus per-sample gradient mode (``hooks``, ``ew``,
``functorch``, ``ghost``), the seconds per local epoch on one simulated site's data
(site-0 of the default 10-site iid partition, written and read by the launcher's and the
site's own code: ``write_site_data`` + ``load_local_data``), with

* DP-SGD: ``privacy.dpsgd.make_private`` (Poisson sampling, the site's real noise
  multiplier from ``client.dp_plan.plan_dp``) + ``tasks.training.train_epochs``;
* non-private: a shuffled ``DataLoader`` + the same ``train_epochs``;

same model, optimizer, batch size and learning rate. Every configuration is timed once
per repeat, in a shuffled order, repeats interleaved, at 1 torch thread (what a Ray
worker with ``simulation.cpus_per_site=1`` gets) and at torch's default thread count.
The ratio is paired: DP epoch time / non-private epoch time of the same repeat.

    python benchmarks/dp_overhead.py [--quick] [--repeats N] [--epochs E]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import torch
from _common import compose_config, machine_facts, print_table, spread, write_result
from torch import nn
from torch.utils.data import DataLoader

from client.dp_plan import plan_dp
from client.local_data import LocalData, load_local_data
from conf.site import SiteSettings
from privacy.dpsgd import GRAD_SAMPLE_MODES, make_private
from privacy.noise import NoiseSource, noise_source
from simulations.site_data import write_site_data
from tasks.registry import get_task
from tasks.training import train_epochs

TASKS = ("digits", "tabular")
NON_PRIVATE = "none"
TARGET_RATIO = 1.5


class Setup:
    """One task's config, its site-0 data and that site's DP noise multiplier."""

    def __init__(self, task_name: str, folder: Path, overrides: list[str]) -> None:
        self.cfg = compose_config([f"task={task_name}", *overrides], str(folder))
        files = write_site_data(self.cfg, folder / "data")
        self.settings = SiteSettings(site="site-0", data_path=str(files.site_files[0]),
                                     ledger_path=str(folder / "ledger.json"),
                                     budget=self.cfg.privacy.site_budget,
                                     delta=self.cfg.privacy.delta)
        self.data: LocalData = load_local_data(self.cfg, self.settings)
        self.plan = plan_dp(self.cfg, self.settings, len(self.data.train))
        self.task = get_task(self.cfg.task)


def time_epochs(setup: Setup, mode: str, epochs: int,
                noise: NoiseSource | None = None) -> dict[str, float]:
    """Build a fresh model and time ``epochs`` local epochs in ``mode`` (or non-private),
    DP noise from ``noise`` (default: the CSPRNG a site uses).

    ``setup_s`` is the time of ``make_private`` (once per round at a site), ``epoch_s``
    the training time per epoch, ``steps`` the optimizer steps per epoch.
    """
    cfg = setup.cfg
    torch.manual_seed(cfg.seed)
    model = setup.task.build_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg.task.learning_rate,
                                momentum=cfg.task.momentum)
    start = time.perf_counter()
    if mode == NON_PRIVATE:
        loader = DataLoader(setup.data.train, batch_size=cfg.task.batch_size, shuffle=True)
        criterion: Any = nn.CrossEntropyLoss()
        private = None
    else:
        private = make_private(model, optimizer, setup.data.train,
                               batch_size=cfg.task.batch_size,
                               noise_multiplier=setup.plan.noise_multiplier,
                               max_grad_norm=cfg.privacy.max_grad_norm,
                               grad_sample_mode=mode,
                               noise=noise or noise_source(None))
        model, optimizer, criterion, loader = (private.model, private.optimizer,
                                               private.criterion, private.loader)
    ready = time.perf_counter()
    stats = train_epochs(model, loader, optimizer, criterion, epochs)
    done = time.perf_counter()
    if private is not None:
        private.close()
    return {"setup_s": ready - start, "epoch_s": (done - ready) / epochs,
            "steps": stats.batches / epochs}


def run(repeats: int, epochs: dict[str, int], thread_counts: list[int],
        overrides: list[str]) -> dict[str, Any]:
    """Time every (threads, task, mode) once per repeat, shuffled; return raw samples."""
    modes = [NON_PRIVATE, *GRAD_SAMPLE_MODES]
    samples: dict[str, list[dict[str, float]]] = {}
    errors: dict[str, str] = {}
    order = random.Random(0)
    with tempfile.TemporaryDirectory(prefix="privfl-dp-overhead-") as tmp:
        setups = {name: Setup(name, Path(tmp) / name, overrides) for name in TASKS}
        for rep in range(-1, repeats):  # rep -1: warm-up (oneDNN kernels, lazy imports)
            for threads in thread_counts:
                torch.set_num_threads(threads)
                for name in order.sample(TASKS, len(TASKS)):
                    for mode in order.sample(modes, len(modes)):
                        key = f"{name}/{threads}/{mode}"
                        if key in errors:
                            continue
                        try:
                            sample = time_epochs(setups[name], mode,
                                                 1 if rep < 0 else epochs[name])
                        except Exception as err:  # a mode this model cannot run
                            errors[key] = f"{type(err).__name__}: {err}"
                            continue
                        if rep >= 0:
                            samples.setdefault(key, []).append(sample)
            print(f"repeat {rep + 1}/{repeats} done" if rep >= 0 else "warm-up done",
                  flush=True)
        rows = {name: len(s.data.train) for name, s in setups.items()}
        sigma = {name: s.plan.noise_multiplier for name, s in setups.items()}
        cfgs = {name: s.cfg.task for name, s in setups.items()}
    return {"samples": samples, "errors": errors, "train_rows": rows, "sigma": sigma,
            "task_cfg": cfgs}


def summarise(raw: dict[str, Any], thread_counts: list[int]) -> list[dict[str, Any]]:
    """Median seconds per epoch and the paired DP / non-private ratio per configuration."""
    out = []
    samples = raw["samples"]
    for name in TASKS:
        for threads in thread_counts:
            base = samples.get(f"{name}/{threads}/{NON_PRIVATE}", [])
            for mode in (NON_PRIVATE, *GRAD_SAMPLE_MODES):
                key = f"{name}/{threads}/{mode}"
                row: dict[str, Any] = {"task": name, "threads": threads, "mode": mode}
                if key in raw["errors"]:
                    out.append({**row, "error": raw["errors"][key]})
                    continue
                mine = samples[key]
                ratios = [m["epoch_s"] / b["epoch_s"] for m, b in zip(mine, base, strict=True)]
                out.append({**row,
                            "epoch_s": spread([m["epoch_s"] for m in mine]),
                            "setup_s": spread([m["setup_s"] for m in mine]),
                            "steps_per_epoch": statistics.median(m["steps"] for m in mine),
                            "ratio": spread(ratios)})
    return out


def recommend(summary: list[dict[str, Any]], threads: int) -> dict[str, str]:
    """The mode with the lowest median epoch time per task at ``threads`` threads."""
    best = {}
    for name in TASKS:
        rows = [r for r in summary if r["task"] == name and r["threads"] == threads
                and r["mode"] != NON_PRIVATE and "error" not in r]
        best[name] = min(rows, key=lambda r: r["epoch_s"]["median"])["mode"]
    return best


def main() -> None:
    """Parse arguments, measure, print the table, write ``results/dp_overhead.json``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 repeats, fewer epochs")
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs per timed sample (default: 20 digits, 6 tabular)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="override task.batch_size (diagnostic; default: the task's)")
    parser.add_argument("--name", default="dp_overhead", help="result file name")
    args = parser.parse_args()
    repeats = 2 if args.quick else args.repeats
    epochs = ({"digits": 3, "tabular": 1} if args.quick
              else {"digits": 20, "tabular": 6})
    if args.epochs:
        epochs = dict.fromkeys(TASKS, args.epochs)
    default_threads = torch.get_num_threads()
    thread_counts = sorted({1, default_threads})
    facts = machine_facts()
    warnings.filterwarnings("ignore", message="Full backward hook is firing")
    started = time.perf_counter()
    overrides = [f"task.batch_size={args.batch_size}"] if args.batch_size else []
    raw = run(repeats, epochs, thread_counts, overrides)
    summary = summarise(raw, thread_counts)
    table = []
    for r in summary:
        if "error" in r:
            table.append([r["task"], r["threads"], r["mode"], "error", "", "", r["error"][:60]])
            continue
        e, q = r["epoch_s"], r["ratio"]
        table.append([r["task"], r["threads"], r["mode"], f"{r['steps_per_epoch']:g}",
                      f"{e['median'] * 1000:.1f} ({e['min'] * 1000:.1f}-{e['max'] * 1000:.1f})",
                      f"{r['setup_s']['median'] * 1000:.2f}",
                      f"{q['median']:.2f}x ({q['min']:.2f}-{q['max']:.2f})"])
    text = print_table(["task", "torch threads", "mode", "steps/epoch",
                        "ms/epoch median (min-max)", "make_private ms",
                        "DP / non-private (min-max)"], table)
    best = {t: recommend(summary, t) for t in thread_counts}
    for threads, choice in best.items():
        print(f"fastest mode at {threads} thread(s): {choice}")
    write_result(args.name, {
        "claim": f"DP-SGD epoch time <= {TARGET_RATIO}x non-private epoch time",
        "command": "python benchmarks/dp_overhead.py " + " ".join(
            f"--{k.replace('_', '-')}={v}" for k, v in vars(args).items()
            if v not in (None, False)),
        "overrides": overrides,
        "quick": args.quick, "repeats": repeats, "epochs_per_sample": epochs,
        "thread_counts": thread_counts, "machine": facts,
        "load_average_after": list(os.getloadavg()),
        "seconds": time.perf_counter() - started,
        "site": "site-0 of the default 10-site iid partition",
        "train_rows": raw["train_rows"], "noise_multiplier": raw["sigma"],
        "task_config": raw["task_cfg"],
        "summary": summary, "fastest_mode_by_threads": best,
        "target_met": {
            f"{r['task']}/{r['threads']}/{r['mode']}": r["ratio"]["median"] <= TARGET_RATIO
            for r in summary if r["mode"] != NON_PRIVATE and "error" not in r},
        "table": text, "samples": raw["samples"], "errors": raw["errors"],
    })


if __name__ == "__main__":
    main()
