"""``privfl simulate``: compose and validate the config, lay out the simulated sites'
data and settings, run the federation in Flower's Simulation Runtime."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from client.dp_plan import check_plan_inputs, plan_dp
from conf.console import log_to_console
from conf.errors import PrivflError
from conf.run_config import to_run_config
from conf.schema import ExperimentConfig
from conf.site import SiteSettings, settings_file
from conf.validate import validate
from privacy.secagg.params import SecAggParams
from privacy.secagg.roster import write_identities
from server.run_start import (
    EXIT_CODES,
    fresh_run_outputs,
    start_line,
    write_run_record,
)
from simulations.runtime import run_federation, write_app_dir
from simulations.site_data import write_site_data
from simulations.site_ledgers import prepare_ledger
from simulations.site_policy import simulated_site_policy
from tasks.partition import local_split


@hydra.main(config_path="pkg://conf", config_name="config", version_base="1.3")
def simulate(raw: DictConfig) -> None:
    """Hydra entry point: one simulation per composed config (a sweep calls it per job)."""
    try:
        outcome = run_simulation(raw)
    except PrivflError as err:
        print(f"privfl: error: {err}", file=sys.stderr, flush=True)
        sys.exit(2)
    if outcome["status"] != "finished" and HydraConfig.get().mode == RunMode.RUN:
        sys.exit(EXIT_CODES[outcome["status"]])  # a sweep goes on to its next job


def run_simulation(raw: DictConfig) -> dict:
    """Validate, prepare the sites and run; returns the run's outcome.json."""
    log_to_console()
    cfg = _name_tracked_run(validate(OmegaConf.to_container(raw, resolve=True)))
    outputs = fresh_run_outputs(cfg)
    out = outputs.root
    line = start_line(cfg, "sites")  # a site-level DP plan that cannot be met stops here
    data = write_site_data(cfg, out / "data")
    cfg = dataclasses.replace(cfg, server_test_data=str(data.server_test.resolve()))
    settings_dir = out / "sites"
    settings_dir.mkdir(exist_ok=True)
    ledger_dir = Path(cfg.simulation.ledger_dir or out / "ledgers")
    identities, roster = {}, None
    if cfg.secure:
        SecAggParams.for_cohort(cfg.secagg, cfg.sites)  # bad parameters stop here
        identities, roster = write_identities([f"site-{i}" for i in range(cfg.sites)],
                                              settings_dir / "identities")
    policy = simulated_site_policy(cfg)
    for i, path in enumerate(data.site_files):
        settings = SiteSettings(
            site=f"site-{i}",
            data_path=str(path.resolve()),
            ledger_path=str((ledger_dir / f"site-{i}.json").resolve()),
            budget=cfg.privacy.site_budget,
            delta=cfg.privacy.delta,
            identity_key_path=str(identities[f"site-{i}"]) if identities else None,
            roster_path=str(roster) if roster else None,
            policy=policy,
        )
        if cfg.privacy.record_level or cfg.synthetic.charged:
            prepare_ledger(cfg, settings)
        if cfg.privacy.record_level:  # what every site would refuse, said before Ray starts
            train_rows, _ = local_split(data.site_rows[i], cfg.task.test_fraction, cfg.seed)
            check_plan_inputs(cfg, settings, len(train_rows))
            if cfg.synthetic.charged:  # DP-SGD after the synthesis: can it reach the target?
                plan_dp(cfg, settings, len(train_rows))
        settings.write(settings_file(settings_dir, i))
    run_config = to_run_config(cfg)
    write_run_record(outputs, raw, cfg, run_config, data.sha256)
    print(line, flush=True)
    run_federation(write_app_dir(out / "flwr-app", run_config), run_config, cfg.sites,
                   settings_dir, cfg.simulation.cpus_per_site, cfg.simulation.verbose,
                   finished=out / "outcome.json")
    return json.loads((out / "outcome.json").read_text())


def _name_tracked_run(cfg: ExperimentConfig) -> ExperimentConfig:
    """In a sweep, group the tracked runs under the sweep's folder
    (``<date>/<time>``) and name each by its job number and overrides, unless
    ``tracking.group`` / ``tracking.run_name`` say otherwise."""
    if not HydraConfig.initialized() or HydraConfig.get().mode != RunMode.MULTIRUN:
        return cfg
    hydra_cfg = HydraConfig.get()
    sweep = Path(hydra_cfg.sweep.dir)
    job = hydra_cfg.job
    tracking = dataclasses.replace(
        cfg.tracking,
        group=cfg.tracking.group or f"{sweep.parent.name}/{sweep.name}",
        run_name=cfg.tracking.run_name or f"{job.num}: {job.override_dirname or 'defaults'}")
    return dataclasses.replace(cfg, tracking=tracking)
