"""Wall time of a real three-site deployment against the same config in simulation.

One run of each, in the same invocation (alternating order with ``--repeats``):

* deployment: ``privfl certs``, ``privfl deploy superlink`` (until the site keys are
  registered), three ``privfl deploy supernode`` on loopback with TLS and authentication
  (until each has its node id), then ``privfl deploy run`` of
  ``experiment=quick task=tabular secagg=secaggplus`` (3 sites, 2 rounds, DP-SGD ε=3).
  The start-up of the federation (SuperLink + SuperNodes) is reported apart from the run.
* simulation: ``privfl simulate`` of the same overrides.

Each run's wall time is split with its ``timing.json``: ``preflight`` (ServerApp start
until every site answered: in deployment the first ClientApp process per site, in
simulation Ray's actors), ``rounds``, and ``start-up`` = wall - preflight - rounds (the
command before and after the ServerApp: imports, Hydra, data files, ``flwr run``).

    python benchmarks/deploy_walltime.py [--repeats N]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import ROOT, machine_facts, print_table, run_timed, spread, write_result

OVERRIDES = ["experiment=quick", "task=tabular", "secagg=secaggplus", "privacy.epsilon=3",
             "sites=3", "rounds=2"]
DEPLOY, SIMULATE = "privfl deploy (3 SuperNodes, TLS)", "privfl simulate (Ray)"


def _split(run_dir: Path, wall: float) -> dict[str, Any]:
    timing = json.loads((run_dir / "timing.json").read_text())
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return {"wall_s": wall, "preflight_s": timing["preflight_seconds"],
            "rounds_s": timing["rounds_seconds"],
            "startup_s": wall - timing["preflight_seconds"] - timing["rounds_seconds"],
            "round_s": [r["round_seconds"] for r in rows], "rounds_done": len(rows),
            "accuracy": rows[-1]["accuracy"]}


def measure_deploy(root: Path) -> dict[str, Any]:
    """Start the federation, run the experiment, stop everything."""
    from tests.support.deployment import running_deployment

    started = time.perf_counter()
    with running_deployment(root, 3, OVERRIDES) as deployment:
        federation_s = time.perf_counter() - started
        run_dir = root / "coordinator" / "runs" / "bench"
        begin = time.perf_counter()
        done = deployment.privfl("deploy", "run", *OVERRIDES,
                                 f"server_test_data={deployment.test_file}",
                                 f"hydra.run.dir={run_dir}")
        wall = time.perf_counter() - begin
        if done.returncode != 0:
            raise RuntimeError(f"privfl deploy run failed:\n{done.stdout[-2000:]}\n"
                               f"{done.stderr[-2000:]}")
        result = _split(run_dir, wall)
        result["federation_startup_s"] = federation_s
        result["superlink_startup_s"] = deployment.startup_seconds["superlink"]
        result["supernodes_startup_s"] = deployment.startup_seconds["supernodes"]
    return result


def measure_simulate(root: Path) -> dict[str, Any]:
    run_dir = root / "sim"
    wall = run_timed(["privfl", "simulate", *OVERRIDES, f"hydra.run.dir={run_dir}"])
    return _split(run_dir, wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    facts = machine_facts()
    runs = []
    with tempfile.TemporaryDirectory(prefix="privfl-deploy-bench-") as tmp:
        for rep in range(args.repeats):
            order = [DEPLOY, SIMULATE] if rep % 2 == 0 else [SIMULATE, DEPLOY]
            for kind in order:
                root = Path(tmp) / f"{rep}-{order.index(kind)}"
                root.mkdir()
                result = (measure_deploy if kind == DEPLOY else measure_simulate)(root)
                result.update(kind=kind, repeat=rep)
                runs.append(result)
                print(f"{kind}: run wall {result['wall_s']:.1f} s", flush=True)
    keys = ("wall_s", "startup_s", "preflight_s", "rounds_s")
    summary: dict[str, Any] = {}
    table = []
    for kind in (DEPLOY, SIMULATE):
        mine = [r for r in runs if r["kind"] == kind]
        parts = {key: spread([r[key] for r in mine]) for key in keys}
        parts["round_s"] = spread([s for r in mine for s in r["round_s"]])
        if kind == DEPLOY:
            parts["federation_startup_s"] = spread([r["federation_startup_s"] for r in mine])
        summary[kind] = parts
        federation = (f"{parts['federation_startup_s']['median']:.1f}" if kind == DEPLOY
                      else "-")
        table.append([kind, federation] + [f"{parts[k]['median']:.1f}"
                                           for k in (*keys, "round_s")])
    text = print_table(["run", "federation start s", "run wall s", "run start-up s",
                        "preflight s", "rounds s", "per round s"], table)
    ratio = {key: summary[DEPLOY][key]["median"] / summary[SIMULATE][key]["median"]
             for key in (*keys, "round_s")}
    print("deployment / simulation: " + ", ".join(f"{k} {v:.2f}x" for k, v in ratio.items()))
    write_result("deploy_walltime", {
        "claim": "wall time of a 3-site 2-round deployment vs the same config in simulation",
        "command": "python benchmarks/deploy_walltime.py", "overrides": OVERRIDES,
        "repeats": args.repeats, "machine": facts,
        "load_average_after": list(os.getloadavg()), "summary": summary,
        "ratio_deploy_over_simulate": ratio, "table": text, "runs": runs,
        "root": str(ROOT),
    })


if __name__ == "__main__":
    main()
