"""``privfl simulate``: compose and validate the config, lay out the simulated sites'
data and settings, run the federation in Flower's Simulation Runtime."""

from __future__ import annotations

import dataclasses
import logging
import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig, OmegaConf

from conf.errors import PrivflError
from conf.run_config import to_run_config
from conf.schema import ExperimentConfig
from conf.site import SiteSettings, settings_file
from conf.validate import validate
from server.outputs import RunOutputs
from simulations.manifest import manifest
from simulations.runtime import run_federation, write_app_dir
from simulations.site_data import write_site_data


@hydra.main(config_path="pkg://conf", config_name="config", version_base="1.3")
def simulate(raw: DictConfig) -> None:
    """Hydra entry point: one simulation per composed config (a sweep calls it per job)."""
    try:
        run_simulation(raw)
    except PrivflError as err:
        print(f"privfl: error: {err}", file=sys.stderr, flush=True)
        sys.exit(2)


def run_simulation(raw: DictConfig) -> ExperimentConfig:
    """Validate, prepare the sites and run; returns the config that ran."""
    _log_to_console()
    cfg = validate(OmegaConf.to_container(raw, resolve=True))
    out = Path(cfg.output_dir)
    outputs = RunOutputs(out)
    outputs.write_text("config.yaml", OmegaConf.to_yaml(raw, resolve=True))
    data = write_site_data(cfg, out / "data")
    cfg = dataclasses.replace(cfg, server_test_data=str(data.server_test.resolve()))
    settings_dir = out / "sites"
    settings_dir.mkdir(exist_ok=True)
    ledger_dir = Path(cfg.simulation.ledger_dir or out / "ledgers")
    for i, path in enumerate(data.site_files):
        SiteSettings(
            site=f"site-{i}",
            data_path=str(path.resolve()),
            ledger_path=str((ledger_dir / f"site-{i}.json").resolve()),
            budget=cfg.privacy.site_budget,
            delta=cfg.privacy.delta,
            allow_nonprivate=cfg.privacy.name == "none",
            allow_reproducible=cfg.reproducible,
        ).write(settings_file(settings_dir, i))
    run_config = to_run_config(cfg)
    outputs.write_json("manifest.json", manifest(run_config, data.sha256, cfg.private))
    print(f"privfl: {cfg.sites} sites, {cfg.rounds} rounds, task={cfg.task.name}, "
          f"strategy={cfg.strategy.name}, privacy={_privacy_line(cfg)}; outputs in {out}",
          flush=True)
    run_federation(write_app_dir(out / "flwr-app", run_config), run_config, cfg.sites,
                   settings_dir, cfg.simulation.cpus_per_site, cfg.simulation.verbose)
    return cfg


def _log_to_console() -> None:
    """privfl's own warnings (failed, refusing, excluded sites) as one line each."""
    logger = logging.getLogger("privfl")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("privfl: %(levelname)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def _privacy_line(cfg: ExperimentConfig) -> str:
    if cfg.privacy.name == "none":
        return "none (NOT private)"
    text = (f"dp_sgd ε={cfg.privacy.epsilon:g} per site for this run "
            f"({cfg.privacy.accountant}, δ={cfg.privacy.delta:g}, unit=record)")
    return text + (" [reproducible=true: NOT private]" if cfg.reproducible else "")
