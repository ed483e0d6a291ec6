"""Claim (issue 3): a SecAgg+ round costs <= 1.3x a plain round at 20 sites and 100k
parameters, and is faster than Flower's legacy SecAgg+ at equal settings.

One in-process harness runs one training round of three variants over the same grid:

* ``plain``: the Message-API FedAvg round without secure aggregation: the server sends
  each site a train message (``ArrayRecord`` of the global model + ``ConfigRecord``); the
  site trains and replies with its trained ``ArrayRecord``, a ``MetricRecord``
  (num-examples) and its site record; the server takes the weighted mean with Flower's
  ``aggregate_arrayrecords`` (what ``flwr.serverapp.strategy.FedAvg`` does).
* ``privfl``: the same round through our real glue: the server wraps the grid in
  ``server.secure_aggregation.SecureAggregationGrid`` (the four stages of
  ``privacy.secagg.server.ServerRound``, payloads encoded with ``privacy.secagg.wire``),
  every site runs ``client.mods.secagg.secagg_mod`` around the same train handler as
  ``plain`` (stages of ``privacy.secagg.site``, state kept in the node's context as
  ``SiteRound.to_bytes``, identity key and roster read from files as in deployment); the
  server then aggregates the replies with ``aggregate_arrayrecords`` as FedAvg would.
* ``flower_legacy``: Flower's legacy SecAgg+: ``flwr.server.workflow.SecAggPlusWorkflow``
  called directly for one round (``LegacyContext`` with the legacy ``FedAvg``, whose
  ``aggregate_fit`` runs inside the workflow), every site runs
  ``flwr.client.mod.secaggplus_mod`` around a legacy fit handler (``recorddict_to_fitins``
  -> the same local work -> ``FitRes`` -> ``fitres_to_recorddict``, i.e. what a
  ``NumPyClient`` does). As Flower's workflow does, sites mask their trained weights, not
  the update; the vector length and hence the cost are the same.

Equal settings: same sites, node ids, model, data and local work; neighbours k =
``privacy.secagg.graph.default_neighbours(n)`` (4, 19, 34, 34 for 5, 20, 50, 100 sites)
and threshold t = k // 2 + 1 for privfl; Flower's ``num_shares`` counts the site itself,
so it gets ``num_shares = k + 1`` (the same k other neighbours; complete graph up to 33
sites in both) and ``reconstruction_threshold = t``; clipping range 1.0, 2**22
quantization levels (``quantization_bits=22`` / ``quantization_range=2**22``), modulus
2**32 (Flower's default and documented maximum; ``modulus_bits=32``), max_weight 1000. Our default
``quantization_bits=24, modulus_bits=44`` would not fit Flower's knobs.

Local work (identical in all variants): one epoch of SGD (lr 0.01, batch 16, 128 fixed
synthetic rows of 64 features, 10 classes, i.e. 8 steps like the digits task) on an MLP
64 -> h -> 10 with h chosen so it has ~P parameters, torch on 1 thread (what a Ray worker
gets per site). ``--local-steps 0`` makes it a no-op.

Transport: the grid serialises every message with Flower's protobuf serde
(``message_to_proto(...).SerializeToString()``) and rebuilds it on the other side; the
bytes counted per direction are the sizes of those serialised protobuf Messages (what
Flower's own serialisation makes of each message; a SuperLink's transport adds framing
and may chunk, which this does not model). Sites run
one after another in one process, so round time = server time + sum of site times. Site
time is from receiving the serialised message to having serialised the reply
(deserialisation, mod, local work, serialisation); server time is the rest of the round
(the strategy / workflow, serialising outgoing and parsing incoming messages). The
"no local work" ratio subtracts the local-work seconds measured inside the same round
from both rounds (``--local-steps 0`` measures it directly; see docs/benchmarks.md).

Each repeat runs the three variants of one cell in a shuffled order (interleaved); one
warm-up round per variant at 5 sites x 10k parameters precedes all timing, and each
cell's model is trained once before its first repeat. Every round's aggregate is checked
against the plain round's (max abs difference reported). Ratios are paired within a
repeat; the tables show the median and the range. Repeats: ``--repeats`` (5) per cell, 9
at the target cell, 3 from 50 sites or 5M sites x parameters on, 2 from 50M, 1 at 100M
(100 sites x 1M): see ``repeats_for`` for the timings that set these limits.

    python benchmarks/secagg_cost.py [--quick] [--repeats N] [--sites 5 20] [--params 10000]
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import random
import resource
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any
from uuid import uuid4

import numpy as np
import torch
from _common import compose_config, machine_facts, print_table, spread, write_result
from flwr.app import (
    Array,
    ArrayRecord,
    ConfigRecord,
    Context,
    Message,
    MetricRecord,
    RecordDict,
)
from flwr.app.message_type import MessageType
from flwr.client.mod import secaggplus_mod
from flwr.clientapp import ClientApp
from flwr.common import Code, FitRes, Status, ndarrays_to_parameters, parameters_to_ndarrays
from flwr.common.serde import message_from_proto, message_to_proto
from flwr.compat.common import recorddict_compat as compat
from flwr.proto.message_pb2 import Message as ProtoMessage
from flwr.server import ServerConfig
from flwr.server.client_manager import SimpleClientManager
from flwr.server.compat.grid_client_proxy import GridClientProxy
from flwr.server.compat.legacy_context import LegacyContext
from flwr.server.strategy import FedAvg as LegacyFedAvg
from flwr.server.workflow import SecAggPlusWorkflow
from flwr.serverapp.strategy.strategy_utils import aggregate_arrayrecords

from client.mods.secagg import secagg_mod
from client.mods.site_policy import site_policy_mod
from conf import protocol
from conf.run_config import to_run_config
from conf.schema import SecAggConfig
from privacy.secagg.params import SecAggParams
from privacy.secagg.roster import write_identities
from tests.support.local_grid import LocalGrid

SITES = (5, 20, 50, 100)
PARAMS = (10_000, 100_000, 1_000_000)
VARIANTS = ("plain", "privfl", "flower_legacy")
TARGET_CELL = (20, 100_000)
TARGET_RATIO = 1.3

FEATURES, CLASSES, ROWS, BATCH, LR = 64, 10, 128, 16, 0.01
CLIP, QUANT_BITS, MODULUS_BITS, MAX_WEIGHT = 1.0, 22, 32, 1000
FIRST_NODE = 1000
TOLERANCE = 1e-4  # max |aggregate - plain aggregate|: quantisation error is ~1e-6

Handler = Callable[[Message, Context], Message]


# --- local work: the same in every variant -------------------------------------------


class LocalWork:
    """One epoch of SGD on an MLP 64 -> h -> 10 with ~``params`` parameters, per site on
    its own fixed synthetic rows; ``seconds`` accumulates the time spent in it."""

    def __init__(self, params: int, steps: int) -> None:
        self.hidden = max(1, round((params - CLASSES) / (FEATURES + 1 + CLASSES)))
        torch.manual_seed(0)
        self.model = torch.nn.Sequential(torch.nn.Linear(FEATURES, self.hidden),
                                         torch.nn.ReLU(), torch.nn.Linear(self.hidden, CLASSES))
        self.keys = list(self.model.state_dict())
        self.initial = [v.detach().numpy().copy() for v in self.model.state_dict().values()]
        self.params = sum(a.size for a in self.initial)
        self.steps = steps
        self.seconds = 0.0
        self._data: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}

    def rows(self, site: int) -> tuple[torch.Tensor, torch.Tensor]:
        if site not in self._data:
            gen = torch.Generator().manual_seed(site)
            self._data[site] = (torch.randn(ROWS, FEATURES, generator=gen),
                                torch.randint(0, CLASSES, (ROWS,), generator=gen))
        return self._data[site]

    def __call__(self, arrays: Sequence[np.ndarray], site: int) -> list[np.ndarray]:
        start = time.perf_counter()
        x, y = self.rows(site)
        with torch.no_grad():
            for param, array in zip(self.model.parameters(), arrays, strict=True):
                param.copy_(torch.from_numpy(np.asarray(array)))
        optimiser = torch.optim.SGD(self.model.parameters(), lr=LR)
        for step in range(self.steps):
            lo = (step * BATCH) % ROWS
            loss = torch.nn.functional.cross_entropy(self.model(x[lo:lo + BATCH]),
                                                     y[lo:lo + BATCH])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        out = [p.detach().numpy().copy() for p in self.model.parameters()]
        self.seconds += time.perf_counter() - start
        return out


# --- the grid: protobuf round trip per message, bytes and site time counted ----------


class BenchGrid(LocalGrid):
    """Delivers each message to its node's handler in this process, through Flower's
    protobuf serialisation both ways; counts bytes per direction and time per site."""

    def __init__(self, run_id: int, handlers: dict[int, Handler],
                 node_configs: dict[int, dict], run_config: dict) -> None:
        super().__init__(run_id, run_config, node_configs)
        self.handlers = handlers
        self.reset()

    def reset(self) -> None:
        self.bytes_down = self.bytes_up = self.messages = 0
        self.site_seconds = dict.fromkeys(self.handlers, 0.0)

    def send_and_receive(self, messages: Iterable[Message], *,
                         timeout: float | None = None) -> Iterable[Message]:
        replies = []
        for msg in messages:
            msg.metadata.__dict__["_message_id"] = uuid4().hex
            data = message_to_proto(msg).SerializeToString()
            self.bytes_down += len(data)
            node = msg.metadata.dst_node_id
            start = time.perf_counter()
            delivered = message_from_proto(ProtoMessage.FromString(data))
            answer = message_to_proto(self.handlers[node](delivered, self.contexts[node]))
            answer = answer.SerializeToString()
            self.site_seconds[node] += time.perf_counter() - start
            self.bytes_up += len(answer)
            self.messages += 1
            replies.append(message_from_proto(ProtoMessage.FromString(answer)))
        return replies


# --- the three variants ---------------------------------------------------------------


def node_site(node: int) -> int:
    return node - FIRST_NODE


def neighbours_threshold(sites: int) -> tuple[int, int]:
    """privfl's derived k and t (``SecAggParams.for_cohort`` with neighbours=threshold=0)."""
    params = SecAggParams.for_cohort(
        SecAggConfig(name="secaggplus", clipping_range=CLIP, quantization_bits=QUANT_BITS,
                     modulus_bits=MODULUS_BITS, max_weight=MAX_WEIGHT), sites)
    return params.neighbours, params.threshold


def message_api_train(work: LocalWork) -> Handler:
    """The site's train handler for ``plain`` and ``privfl`` (privfl wraps it in its mod)."""

    def train(msg: Message, context: Context) -> Message:
        arrays = msg.content[protocol.ARRAYS]
        trained = work(arrays.to_numpy_ndarrays(), node_site(context.node_id))
        content = RecordDict({
            protocol.ARRAYS: ArrayRecord({k: Array(v) for k, v in zip(arrays, trained,
                                                                      strict=True)}),
            protocol.METRICS: MetricRecord({protocol.NUM_EXAMPLES: ROWS,
                                            protocol.TRAIN_LOSS: 0.0,
                                            protocol.TRAIN_SAMPLES: ROWS}),
            protocol.SITE: ConfigRecord({"site": f"site-{node_site(context.node_id)}",
                                         protocol.STATUS: protocol.OK}),
        })
        return Message(content, reply_to=msg)

    return train


def privfl_site_app(train: Handler) -> ClientApp:
    """privfl's site stack (site-policy mod, then SecAgg+ mod) around ``train``, with a
    preflight that accepts (the benchmark's sites have no data file to check)."""
    app = ClientApp(mods=[site_policy_mod, secagg_mod])
    app.train()(train)

    @app.query(protocol.PREFLIGHT)
    def preflight(msg: Message, context: Context) -> Message:
        site = ConfigRecord({"site": f"site-{node_site(context.node_id)}",
                             protocol.STATUS: protocol.OK})
        return Message(RecordDict({protocol.SITE: site}), reply_to=msg)

    return app


def legacy_fit(work: LocalWork) -> Handler:
    """The site's handler for ``flower_legacy``: what a NumPyClient's fit does."""

    def fit(msg: Message, context: Context) -> Message:
        fitins = compat.recorddict_to_fitins(msg.content, keep_input=True)
        trained = work(parameters_to_ndarrays(fitins.parameters), node_site(context.node_id))
        fitres = FitRes(Status(Code.OK, "ok"), ndarrays_to_parameters(trained), ROWS, {})
        return Message(compat.fitres_to_recorddict(fitres, keep_input=False), reply_to=msg)

    return fit


@dataclass
class Variant:
    """One variant's grid and its round function (returns the new global weights)."""

    grid: BenchGrid
    round: Callable[[int], list[np.ndarray]]
    prepare: Callable[[int], None] = field(default=lambda _: None)


def secure_federation(nodes: list[int], folder: Path, overrides: list[str]
                      ) -> tuple[Any, dict[int, dict]]:
    """The SecAgg+ run config at this benchmark's settings (plus ``overrides``) and each
    node's config: site name, identity key and roster as in deployment, no data file."""
    identities, roster = write_identities([f"site-{i}" for i in range(len(nodes))], folder)
    cfg = compose_config([*overrides, "secagg=secaggplus", f"sites={len(nodes)}",
                          f"secagg.clipping_range={CLIP}",
                          f"secagg.quantization_bits={QUANT_BITS}",
                          f"secagg.modulus_bits={MODULUS_BITS}",
                          f"secagg.max_weight={MAX_WEIGHT}"], output_dir=str(folder))
    node_configs = {node: {"site": f"site-{i}", "data-path": str(folder / "unused.csv"),
                           "ledger-path": str(folder / f"site-{i}.ledger.json"),
                           "budget": 1.0, "delta": 1e-5, "allow-nonprivate": True,
                           "identity-key": str(identities[f"site-{i}"]),
                           "roster": str(roster)}
                    for i, node in enumerate(nodes)}
    return cfg, node_configs


def build_variants(sites: int, work: LocalWork, folder: Path) -> dict[str, Variant]:
    """The three variants for ``sites`` sites, each on its own grid (own node contexts)
    with the same node ids, run id, initial model and local work."""
    nodes = [FIRST_NODE + i for i in range(sites)]
    run_id = random.getrandbits(62)
    k, t = neighbours_threshold(sites)
    initial = ArrayRecord({key: Array(a) for key, a in zip(work.keys, work.initial,
                                                           strict=True)})

    def train_messages(server_round: int) -> list[Message]:
        return [Message(RecordDict({protocol.ARRAYS: initial,
                                    protocol.CONFIG: ConfigRecord({"server-round": server_round})}),
                        dst_node_id=node, message_type=MessageType.TRAIN) for node in nodes]

    def fedavg(replies: Iterable[Message]) -> list[np.ndarray]:
        replies = list(replies)
        errors = [r.error.reason for r in replies if r.has_error()]
        if errors:
            raise RuntimeError(f"{len(errors)} site(s) failed: {errors[0]}")
        # under SecAgg+ one reply carries the aggregate; the others are the survivors' "ok"
        return aggregate_arrayrecords([r.content for r in replies
                                       if protocol.ARRAYS in r.content.array_records],
                                      protocol.NUM_EXAMPLES).to_numpy_ndarrays()

    # plain
    train = message_api_train(work)
    plain_grid = BenchGrid(run_id, dict.fromkeys(nodes, train), {n: {} for n in nodes}, {})

    def plain_round(server_round: int) -> list[np.ndarray]:
        return fedavg(plain_grid.send_and_receive(train_messages(server_round)))

    # privfl: the real SecureAggregationGrid and secagg_mod
    from server.secure_aggregation import SecureAggregationGrid

    cfg, node_configs = secure_federation(nodes, folder, ["privacy=none"])
    site_app = privfl_site_app(train)
    privfl_grid = BenchGrid(run_id, dict.fromkeys(nodes, site_app), node_configs,
                            to_run_config(cfg))
    privfl_grid.send_and_receive([  # untimed: each site checks the run once
        Message(RecordDict({protocol.CONFIG: ConfigRecord({})}), dst_node_id=node,
                message_type=f"query.{protocol.PREFLIGHT}") for node in nodes])
    privfl_grid.reset()
    secure = SecureAggregationGrid(privfl_grid, cfg)

    def privfl_round(server_round: int) -> list[np.ndarray]:
        return fedavg(secure.send_and_receive(train_messages(server_round)))

    # flower_legacy: SecAggPlusWorkflow + secaggplus_mod
    fit = legacy_fit(work)
    flower_grid = BenchGrid(run_id, dict.fromkeys(nodes, lambda m, c: secaggplus_mod(m, c, fit)),
                            {n: {} for n in nodes}, {})
    manager = SimpleClientManager()
    for node in nodes:
        manager.register(GridClientProxy(node, flower_grid, run_id))
    strategy = LegacyFedAvg(fraction_fit=1.0, fraction_evaluate=0.0, min_fit_clients=sites,
                            min_available_clients=sites)
    context = LegacyContext(Context(run_id=run_id, node_id=0, node_config={},
                                    state=RecordDict(), run_config={}),
                            config=ServerConfig(num_rounds=1), strategy=strategy,
                            client_manager=manager)
    workflow = SecAggPlusWorkflow(num_shares=k + 1, reconstruction_threshold=t,
                                  max_weight=float(MAX_WEIGHT), clipping_range=CLIP,
                                  quantization_range=2**QUANT_BITS,
                                  modulus_range=2**MODULUS_BITS)

    def flower_prepare(server_round: int) -> None:  # untimed: the DefaultWorkflow's part
        context.state.config_records["config"] = ConfigRecord({"current_round": server_round})
        context.state.array_records["parameters"] = compat.parameters_to_arrayrecord(
            ndarrays_to_parameters(work.initial), keep_input=True)

    def flower_round(server_round: int) -> list[np.ndarray]:
        workflow(flower_grid, context)
        return parameters_to_ndarrays(compat.arrayrecord_to_parameters(
            context.state.array_records["parameters"], keep_input=True))

    return {"plain": Variant(plain_grid, plain_round),
            "privfl": Variant(privfl_grid, privfl_round),
            "flower_legacy": Variant(flower_grid, flower_round, flower_prepare)}


# --- measurement ----------------------------------------------------------------------


def run_once(name: str, variant: Variant, work: LocalWork, server_round: int) -> tuple[dict, list]:
    """One timed round: seconds (round, server, sites, local work), bytes, the result."""
    variant.prepare(server_round)
    variant.grid.reset()
    work.seconds = 0.0
    gc.collect()
    start = time.perf_counter()
    result = variant.round(server_round)
    wall = time.perf_counter() - start
    sites = sum(variant.grid.site_seconds.values())
    expected = len(variant.grid.handlers) * (1 if name == "plain" else 4)
    if variant.grid.messages != expected:  # a stage failed or the workflow halted
        raise RuntimeError(f"{name}: {variant.grid.messages} messages, expected {expected}")
    sample = {"round_s": wall, "server_s": wall - sites, "sites_s": sites,
              "site_mean_s": sites / len(variant.grid.site_seconds),
              "work_s": work.seconds, "bytes_down": variant.grid.bytes_down,
              "bytes_up": variant.grid.bytes_up, "messages": variant.grid.messages}
    return sample, result


def repeats_for(sites: int, params: int, base: int) -> int:
    """Fewer repeats where one round of all variants takes long, more at the target cell.

    Measured on the 2-core machine of docs/benchmarks.md: Flower's legacy round alone
    takes ~20 s at 50 sites and ~35-50 s at 100 sites even at 10k parameters, and all
    three variants take ~90 s (50 sites) and ~155 s (100 sites) at 1M parameters.
    """
    if (sites, params) == TARGET_CELL:
        return max(base, 9)
    if sites * params >= 100_000_000:
        return 1
    if sites * params >= 50_000_000:
        return min(base, 2)
    if sites >= 50 or sites * params >= 5_000_000:
        return min(base, 3)
    return base


def measure_cell(sites: int, params: int, steps: int, repeats: int, order_rng: random.Random,
                 variants: Sequence[str]) -> dict[str, Any]:
    work = LocalWork(params, steps)
    with tempfile.TemporaryDirectory(prefix="privfl-secagg-cost-") as tmp:
        built = build_variants(sites, work, Path(tmp))
        work(work.initial, 0)  # the first pass over a new model size: untimed
        samples: dict[str, list[dict]] = {v: [] for v in variants}
        diffs: dict[str, list[float]] = {v: [] for v in variants}
        cell_start = time.perf_counter()
        for r in range(repeats):
            order = list(variants)
            order_rng.shuffle(order)
            results = {}
            for name in order:
                sample, results[name] = run_once(name, built[name], work, r + 1)
                samples[name].append(sample)
            reference = results.get("plain")
            for name in variants:
                if reference is None:
                    continue
                diff = max(float(np.max(np.abs(a - b)))
                           for a, b in zip(results[name], reference, strict=True))
                if diff > TOLERANCE:
                    raise RuntimeError(f"{name} at {sites} sites x {params}: aggregate differs "
                                       f"from plain by {diff:g}")
                diffs[name].append(diff)
            print(f"  {sites} sites x {work.params:,} params, repeat {r + 1}/{repeats}: "
                  + ", ".join(f"{n} {samples[n][-1]['round_s']:.3f}s" for n in variants),
                  flush=True)
        cell_seconds = time.perf_counter() - cell_start
    k, t = neighbours_threshold(sites)
    return {"sites": sites, "params_target": params, "params": work.params,
            "hidden": work.hidden, "local_steps": steps, "neighbours_k": k, "threshold_t": t,
            "flower_num_shares": k + 1, "repeats": repeats, "cell_seconds": cell_seconds,
            "samples": samples, "max_abs_diff_vs_plain": diffs}


def summarise(cell: dict[str, Any]) -> dict[str, Any]:
    """Medians and ranges per variant, ratios to plain paired within a repeat."""
    samples = cell["samples"]
    summary: dict[str, Any] = {}
    for name, rows in samples.items():
        entry = {key: spread([row[key] for row in rows])
                 for key in ("round_s", "server_s", "site_mean_s", "work_s", "bytes_down",
                             "bytes_up")}
        if "plain" in samples and name != "plain":
            pairs = list(zip(rows, samples["plain"], strict=True))
            entry["ratio_vs_plain"] = spread([s["round_s"] / p["round_s"] for s, p in pairs])
            entry["ratio_vs_plain_no_work"] = spread(
                [(s["round_s"] - s["work_s"]) / (p["round_s"] - p["work_s"]) for s, p in pairs])
        summary[name] = entry
    if "privfl" in samples and "flower_legacy" in samples:
        pairs = zip(samples["privfl"], samples["flower_legacy"], strict=True)
        summary["privfl_vs_flower"] = spread([p["round_s"] / f["round_s"] for p, f in pairs])
    return summary


# --- output ---------------------------------------------------------------------------


def _r(s: dict[str, float], fmt: str = ".2f", unit: str = "x") -> str:
    if s["n"] == 1:
        return f"{s['median']:{fmt}}{unit}"
    return f"{s['median']:{fmt}}{unit} ({s['min']:{fmt}}-{s['max']:{fmt}})"


def _secs(s: dict[str, float]) -> str:
    fmt = ".3f" if s["median"] < 10 else ".1f"
    return _r(s, fmt, "")


def _mb(s: dict[str, float]) -> str:
    return f"{s['median'] / 1e6:.2f}"


def tables(cells: list[dict[str, Any]]) -> tuple[str, str]:
    detail, overview = [], []
    for cell in cells:
        summary = cell["summary"]
        for name in cell["samples"]:
            s = summary[name]
            detail.append([cell["sites"], f"{cell['params']:,}", name, cell["repeats"],
                           _secs(s["round_s"]),
                           _r(s["ratio_vs_plain"]) if "ratio_vs_plain" in s else "1",
                           _r(s["ratio_vs_plain_no_work"])
                           if "ratio_vs_plain_no_work" in s else "1",
                           _secs(s["server_s"]), _secs(s["site_mean_s"]),
                           _mb(s["bytes_down"]), _mb(s["bytes_up"])])
        if "privfl_vs_flower" in summary:
            overview.append([cell["sites"], f"{cell['params']:,}",
                             f"{cell['neighbours_k']} / {cell['threshold_t']}",
                             _r(summary["privfl"]["ratio_vs_plain"]),
                             _r(summary["flower_legacy"]["ratio_vs_plain"]),
                             _r(summary["privfl"]["ratio_vs_plain_no_work"]),
                             _r(summary["flower_legacy"]["ratio_vs_plain_no_work"]),
                             _r(summary["privfl_vs_flower"])])
    print()
    detail_text = print_table(
        ["sites", "params", "variant", "repeats", "round s", "x plain",
         "x plain, no local work", "server s", "per site s", "MB server->sites",
         "MB sites->server"], detail)
    print()
    overview_text = print_table(
        ["sites", "params", "k / t", "privfl x plain", "flower x plain",
         "privfl x plain, no work", "flower x plain, no work", "privfl / flower"], overview)
    return detail_text, overview_text


def main() -> None:
    """Parse arguments, measure, print the tables, write ``results/secagg_cost.json``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 sites x 10k params, 2 repeats")
    parser.add_argument("--repeats", type=int, default=5,
                        help="repeats for small cells (large ones get fewer, see repeats_for)")
    parser.add_argument("--sites", type=int, nargs="+", default=list(SITES))
    parser.add_argument("--params", type=int, nargs="+", default=list(PARAMS))
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--local-steps", type=int, default=ROWS // BATCH,
                        help="SGD steps of local work per site and round (0: none)")
    parser.add_argument("--name", default="secagg_cost", help="results/<name>.json")
    args = parser.parse_args()
    sites, params = (([5], [10_000]) if args.quick else (args.sites, args.params))
    base = 2 if args.quick else args.repeats
    facts = machine_facts()
    torch.set_num_threads(1)
    logging.getLogger("flwr").setLevel(logging.ERROR)
    facts["versions"] |= {p: version(p) for p in ("cryptography", "numpy", "pycryptodome")}
    facts["torch_threads_used"] = torch.get_num_threads()
    started = time.perf_counter()
    order_rng = random.Random(0)
    warm = measure_cell(5, 10_000, args.local_steps, 1, order_rng, args.variants)
    print(f"warm-up done in {warm['cell_seconds']:.1f}s", flush=True)
    cells = []
    for p in params:
        for n in sites:
            cell = measure_cell(n, p, args.local_steps, repeats_for(n, p, base), order_rng,
                                args.variants)
            cell["summary"] = summarise(cell)
            cells.append(cell)
    detail, overview = tables(cells)
    target = next((c for c in cells if (c["sites"], c["params_target"]) == TARGET_CELL
                   and "privfl" in c["summary"] and "plain" in c["samples"]), None)
    verdict = {}
    if target is not None:
        ratio = target["summary"]["privfl"]["ratio_vs_plain"]["median"]
        verdict["ratio_at_20_sites_100k"] = ratio
        verdict["meets_1_3x"] = ratio <= TARGET_RATIO
    verdict["faster_than_flower"] = {
        f"{c['sites']}x{c['params']}": c["summary"]["privfl_vs_flower"]["median"] < 1
        for c in cells if "privfl_vs_flower" in c["summary"]}
    write_result(args.name, {
        "claim": "secure round <= 1.3x a plain round at 20 sites x 100k parameters; "
                 "faster than Flower's legacy SecAgg+ at equal settings",
        "command": "python benchmarks/secagg_cost.py" + (" --quick" if args.quick else ""),
        "quick": args.quick,
        "settings": {"clipping_range": CLIP, "quantization_bits": QUANT_BITS,
                     "modulus_bits": MODULUS_BITS, "max_weight": MAX_WEIGHT,
                     "features": FEATURES, "classes": CLASSES, "rows_per_site": ROWS,
                     "batch": BATCH, "lr": LR, "local_steps": args.local_steps,
                     "first_node_id": FIRST_NODE},
        "units": {"seconds": "wall seconds per round", "bytes": "serialised protobuf "
                  "Message bytes per round, summed over sites (down: server->sites)"},
        "machine": facts,
        "load_average_after": list(os.getloadavg()),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "seconds": time.perf_counter() - started,
        "verdict": verdict,
        "results": cells,
        "table": detail,
        "overview": overview,
    })


if __name__ == "__main__":
    main()
