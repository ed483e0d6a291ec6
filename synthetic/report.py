"""The report of one ``privfl synth`` run, as a JSON-able dict.

It holds aggregates only (scores, counts, timings, settings, column names), never a
value of a real row; bounds and levels appear only where they were declared public.
:mod:`synthetic.report_render` turns it into ``report.md`` and ``report.html``.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from importlib import metadata as package_metadata
from typing import Any

from conf.synth_schema import SynthConfig
from synthetic.gate import GateCheck

FORMAT = "privfl-synth-report/1"

RISK_STATEMENT = (
    "The privacy numbers are risk indicators measured on samples of the real rows, not "
    "guarantees: passing them does not prove that no person in the table can be "
    "re-identified or have an attribute inferred.")
SDV_STATEMENT = (
    "SDV synthesizers (GaussianCopula, CTGAN, TVAE, CopulaGAN) are not differentially "
    "private: the synthetic table can reveal information about individual real rows, "
    "including rare values, rare combinations and each column's extremes.")
DP_STATEMENT = (
    "dp_mst is differentially private at the record level for the declared columns; its "
    "bounds and levels came from the config, not the data. The quality and privacy "
    "numbers in this report are computed on the real rows WITHOUT DP noise and are not "
    "covered by ε: they are for the site's own review.")
AGGREGATES_STATEMENT = ("This report holds aggregates only (scores, counts, timings, column "
                        "names), no value of any real row.")
ADVISORY_NOTE = (
    "The gate is advisory for a DP synthesizer: its checks are computed on the real rows "
    "without noise, so a release decided by them would no longer be covered by ε; the "
    "table is released whatever they show (ε bounds the risk), and failed checks are "
    "reported for the site's review.")
FORCED_WARNING = (
    "force=true: the synthetic table and metadata were written although the release gate "
    "failed ({failed}); review the privacy numbers before sharing them.")


def build_report(cfg: SynthConfig, *, data_rows: int, data_columns: int, train_rows: int,
                 holdout_rows: int, synthetic_rows: int, file_type: str,
                 quality: dict[str, Any], privacy: dict[str, Any], checks: list[GateCheck],
                 released: bool, metadata_info: dict[str, Any], timings: dict[str, float],
                 dp: dict[str, Any] | None, outputs: list[str]) -> dict[str, Any]:
    """The report dict (see the module docstring)."""
    syn = cfg.synthesizer
    failed = [check.name for check in checks if not check.passed]
    advisory = syn.private
    forced = bool(failed) and released and not advisory
    statements = [RISK_STATEMENT, DP_STATEMENT if syn.private else SDV_STATEMENT,
                  AGGREGATES_STATEMENT]
    return {
        "format": FORMAT,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": _versions(),
        "synthesizer": {**_parameters(cfg), "differentially_private": syn.private},
        "data": {"file_type": file_type, "rows": data_rows, "columns": data_columns,
                 "training_rows": train_rows, "holdout_rows": holdout_rows,
                 "synthetic_rows": synthetic_rows, "seed": cfg.seed},
        "released": released,
        "gate": {
            "passed": not failed,
            "advisory": advisory,
            "note": ADVISORY_NOTE if advisory else None,
            "forced": forced,
            "warning": FORCED_WARNING.format(failed=", ".join(failed)) if forced else None,
            "checks": [check.to_dict() for check in checks],
            "exit_code": 0 if released else 4,
        },
        "quality": quality,
        "privacy": privacy,
        "metadata": metadata_info,
        "dp": dp,
        "timings_s": timings,
        "outputs": outputs,
        "statements": statements,
    }


def _parameters(cfg: SynthConfig) -> dict[str, Any]:
    """The synthesizer's parameters that apply to it (those its config file lists)."""
    syn = dataclasses.asdict(cfg.synthesizer)
    keys = {
        "gaussian_copula": ("default_distribution", "enforce_min_max_values"),
        "ctgan": ("epochs", "batch_size", "pac", "enforce_min_max_values"),
        "tvae": ("epochs", "batch_size", "enforce_min_max_values"),
        "copulagan": ("epochs", "batch_size", "pac", "default_distribution",
                      "enforce_min_max_values"),
        "dp_mst": ("epsilon", "bins"),
    }[cfg.synthesizer.name]
    return {"name": cfg.synthesizer.name, **{k: syn[k] for k in keys}}


def _versions() -> dict[str, str]:
    versions = {}
    for package in ("privfl", "sdv", "sdmetrics", "mbi"):
        try:
            versions[package] = package_metadata.version(package)
        except package_metadata.PackageNotFoundError:
            continue
    return versions
