"""Claim (issue 11): handing the strategy one secure aggregate instead of N weight-1
copies of it makes a secure round cheaper at the coordinator, at 20 and 50 sites.

One secure training round through privfl's real coordinator stack: ``SiteGuard`` around
the strategy (FedAvg, or DP-FedAvg's ``SiteLevelDP`` around FedAvg), the real
``SecureAggregationGrid`` below it, and every site running privfl's site-policy and
SecAgg+ mods around a train handler (``benchmarks/secagg_cost.py``'s in-process
``BenchGrid``: Flower's protobuf serialisation both ways, sites one after another,
their time measured apart). Two variants of the same round, interleaved in a shuffled
order per repeat:

* ``one aggregate`` (now): the secure grid's replies hold the aggregate once (in one
  survivor's reply, with the secure sums); the strategy aggregates that one reply, and
  DP-FedAvg releases the survivors' mean x their count / cohort directly.
* ``N copies`` (before): every survivor's reply holds the aggregate with weight 1, as
  main did before this change (reproduced by re-expanding the replies); the strategy
  screens and weight-averages N copies, and DP-FedAvg flattens and clips N copies.

Both release the same model (checked, up to the DP noise). Timed: the round (the four
stages, the sites, the strategy's aggregation); "coordinator s" is the round minus the
sites' time. No local training by default (``--local-steps``), so what differs is the
coordinator's work.

    python benchmarks/secure_aggregate.py [--quick] [--repeats N] [--sites 20 50]
"""

from __future__ import annotations

import argparse
import gc
import logging
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from _common import machine_facts, print_table, spread, write_result
from flwr.app import Array, ArrayRecord, ConfigRecord, Message, MetricRecord, RecordDict
from secagg_cost import (
    CLIP,
    FIRST_NODE,
    BenchGrid,
    LocalWork,
    message_api_train,
    privfl_site_app,
    secure_federation,
)

from conf import protocol
from conf.run_config import to_run_config
from server.roster import SiteRoster
from server.secure_aggregation import SecureAggregationGrid
from server.strategies.registry import build_strategy
from server.strategies.site_guard import SiteGuard
from server.strategies.site_level_dp import SiteLevelDP

SITES = (20, 50)
PARAMS = (100_000, 1_000_000)
MODES = ("fedavg", "dp_fedavg")
VARIANTS = ("one aggregate", "N copies")


class NCopiesGrid:
    """The secure grid as it answered before: the aggregate in every survivor's reply,
    weight 1, and no secure sums (so DP-FedAvg takes the N replies one by one)."""

    def __init__(self, secure: SecureAggregationGrid) -> None:
        self._secure = secure

    def send_and_receive(self, messages, *, timeout=None):
        replies = list(self._secure.send_and_receive(messages, timeout=timeout))
        carrier = next(r for r in replies if protocol.ARRAYS in r.content.array_records)
        aggregate = carrier.content[protocol.ARRAYS]
        for reply in replies:
            if not reply.has_error():
                reply.content[protocol.ARRAYS] = aggregate
                reply.content[protocol.METRICS] = MetricRecord({protocol.NUM_EXAMPLES: 1})
        return replies

    def __getattr__(self, name: str) -> Any:
        return getattr(self._secure, name)


def build(sites: int, mode: str, work: LocalWork, folder: Path):
    """The sites' grid (preflighted), the run config and the initial model."""
    nodes = [FIRST_NODE + i for i in range(sites)]
    privacy = ["privacy=client_dp", "privacy.client.epsilon=1000",
               f"privacy.client.clipping_norm={CLIP}"] if mode == "dp_fedavg" else \
        ["privacy=none"]
    cfg, node_configs = secure_federation(nodes, folder, [*privacy, "rounds=1000",
                                                          f"min_sites={sites // 2}"])
    grid = BenchGrid(random.getrandbits(62), dict.fromkeys(nodes, privfl_site_app(
        message_api_train(work))), node_configs, to_run_config(cfg))
    grid.send_and_receive([  # untimed: each site checks the run once
        Message(RecordDict({protocol.CONFIG: ConfigRecord({})}), dst_node_id=node,
                message_type=f"query.{protocol.PREFLIGHT}") for node in nodes])
    initial = ArrayRecord({k: Array(a) for k, a in zip(work.keys, work.initial, strict=True)})
    return cfg, grid, initial


def run_round(variant: str, cfg, grid: BenchGrid, initial: ArrayRecord,
              server_round: int) -> tuple[dict[str, float], np.ndarray]:
    """One timed secure round through SiteGuard and the strategy; seconds, new model."""
    roster = SiteRoster()
    for node in grid.handlers:
        roster.add(node, f"site-{node - FIRST_NODE}")
    strategy = SiteLevelDP.around(cfg) if cfg.privacy.site_level else build_strategy(cfg)
    secure = SecureAggregationGrid(grid, cfg)
    one = variant == "one aggregate"
    guard = SiteGuard(strategy, roster, cfg.min_sites, 60.0, secure=one)
    below = secure if one else NCopiesGrid(secure)
    grid.reset()
    gc.collect()
    start = time.perf_counter()
    messages = guard.configure_train(server_round, initial, ConfigRecord(), below)
    replies = below.send_and_receive(messages, timeout=60.0)
    arrays, _ = guard.aggregate_train(server_round, replies)
    wall = time.perf_counter() - start
    if arrays is None or len(guard.current.trained) != len(grid.handlers):
        raise RuntimeError(f"{variant}: the round did not aggregate every site "
                           f"({guard.current.failed})")
    sites = sum(grid.site_seconds.values())
    model = np.concatenate([a.ravel() for a in arrays.to_numpy_ndarrays()])
    return {"round_s": wall, "coordinator_s": wall - sites, "sites_s": sites}, model


def measure(sites: int, params: int, mode: str, steps: int, repeats: int,
            rng: random.Random) -> dict[str, Any]:
    work = LocalWork(params, steps)
    samples: dict[str, list[dict[str, float]]] = {v: [] for v in VARIANTS}
    diffs = []
    with tempfile.TemporaryDirectory(prefix="privfl-secure-aggregate-") as tmp:
        cfg, grid, initial = build(sites, mode, work, Path(tmp))
        for r in range(repeats):
            order = list(VARIANTS)
            rng.shuffle(order)
            models = {}
            for variant in order:
                sample, models[variant] = run_round(variant, cfg, grid, initial, 2 * r + 1
                                                    + order.index(variant))
                samples[variant].append(sample)
            diffs.append(float(np.max(np.abs(models[VARIANTS[0]] - models[VARIANTS[1]]))))
            print(f"  {mode}, {sites} sites x {work.params:,} params, repeat {r + 1}/"
                  f"{repeats}: " + ", ".join(f"{v} {samples[v][-1]['round_s']:.3f}s"
                                             for v in VARIANTS), flush=True)
    if mode == "fedavg" and max(diffs) > 1e-5:
        raise RuntimeError(f"the two variants release different models ({max(diffs):g})")
    ratios = {key: spread([a[key] / b[key] for a, b in zip(samples[VARIANTS[0]],
                                                            samples[VARIANTS[1]], strict=True)])
              for key in ("round_s", "coordinator_s")}
    return {"sites": sites, "params": work.params, "mode": mode, "repeats": repeats,
            "local_steps": steps,
            "summary": {v: {k: spread([s[k] for s in samples[v]]) for k in samples[v][0]}
                        for v in VARIANTS},
            "ratio_one_over_copies": ratios, "max_abs_diff": max(diffs), "samples": samples}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 sites x 10k params, 1 repeat")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sites", type=int, nargs="+", default=list(SITES))
    parser.add_argument("--params", type=int, nargs="+", default=list(PARAMS))
    parser.add_argument("--local-steps", type=int, default=0,
                        help="SGD steps of local work per site and round (default none)")
    args = parser.parse_args()
    sites, params, repeats = ([5], [10_000], 1) if args.quick else \
        (args.sites, args.params, args.repeats)
    facts = machine_facts()
    torch.set_num_threads(1)
    logging.getLogger("flwr").setLevel(logging.ERROR)
    logging.getLogger("privfl").setLevel(logging.ERROR)
    rng = random.Random(0)
    measure(5, 10_000, "fedavg", args.local_steps, 1, rng)  # warm-up, untimed
    cells = [measure(n, p, mode, args.local_steps, repeats, rng)
             for p in params for n in sites for mode in MODES]
    rows = []
    for c in cells:
        one, copies = (c["summary"][v] for v in VARIANTS)
        rows.append([c["mode"], c["sites"], f"{c['params']:,}", c["repeats"],
                     f"{copies['round_s']['median']:.3f}", f"{one['round_s']['median']:.3f}",
                     f"{c['ratio_one_over_copies']['round_s']['median']:.3f}x",
                     f"{copies['coordinator_s']['median']:.3f}",
                     f"{one['coordinator_s']['median']:.3f}",
                     f"{c['ratio_one_over_copies']['coordinator_s']['median']:.3f}x"])
    table = print_table(["strategy", "sites", "params", "repeats", "round s, N copies",
                         "round s, one aggregate", "round ratio", "coordinator s, N copies",
                         "coordinator s, one aggregate", "coordinator ratio"], rows)
    write_result("secure_aggregate", {"quick": args.quick, "machine": facts, "table": table,
                                      "cells": cells})


if __name__ == "__main__":
    main()
