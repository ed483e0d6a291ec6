"""Run a federation on this machine through Flower's Simulation Runtime (Ray backend).

We call ``flwr.simulation.run_simulation._run_simulation`` the way Flower's own
``flwr-simulation`` process does (the process ``flwr run`` starts behind a SuperLink):
with a Flower app directory whose ``pyproject.toml`` holds the components and the
flattened run config, so the ServerApp and every ClientApp receive the validated config
through ``context.run_config``. The public ``run_simulation`` is deprecated in 1.42 and
passes an empty run_config; ``flwr run`` needs a managed SuperLink daemon on fixed ports
and cannot hand per-partition site settings to the ClientApps. See
docs/design-notes.md for the measured start-up costs and why flwr is pinned.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

import tomli_w
from flwr.app import Context, RecordDict
from flwr.common.constant import SUPERLINK_NODE_ID
from flwr.simulation.run_simulation import _run_simulation
from flwr.supercore.constant import NOOP_FEDERATION_ID
from flwr.supercore.run import Run
from flwr.supercore.task_identity import TaskIdentity
from flwr.supercore.telemetry import EventType

from conf.site import SITE_SETTINGS_ENV

SERVER_APP = "server.app:app"
CLIENT_APP = "client.app:app"


def write_app_dir(folder: Path, run_config: dict) -> Path:
    """A Flower app directory: components plus the run config as its defaults."""
    folder.mkdir(parents=True, exist_ok=True)
    project = {
        "project": {"name": "privfl-run", "version": "1.0.0",
                    "description": "privfl experiment", "license": "Apache-2.0"},
        "tool": {"flwr": {"app": {
            "publisher": "privfl",
            "components": {"serverapp": SERVER_APP, "clientapp": CLIENT_APP},
            "config": run_config,
        }}},
    }
    (folder / "pyproject.toml").write_text(tomli_w.dumps(project))
    return folder


def run_federation(app_dir: Path, run_config: dict, sites: int, site_settings: Path,
                   cpus_per_site: float, verbose: bool) -> None:
    """Start Ray, run the ServerApp and the simulated ClientApps, stop Ray."""
    os.environ[SITE_SETTINGS_ENV] = str(site_settings.resolve())
    os.environ.setdefault("FLWR_TELEMETRY_ENABLED", "0")
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")
    run_id = secrets.randbits(63)
    run = Run.create_empty(run_id=run_id)
    run.primary_task_id = secrets.randbits(63)
    run.federation_id = NOOP_FEDERATION_ID
    TaskIdentity.task_id = 1
    TaskIdentity.run_id = run_id
    TaskIdentity.node_id = SUPERLINK_NODE_ID
    context = Context(run_id=run_id, node_id=0, node_config={}, state=RecordDict(),
                      run_config=dict(run_config))
    backend_config = {
        "client_resources": {"num_cpus": cpus_per_site, "num_gpus": 0.0},
        "init_args": {
            "logging_level": "INFO" if verbose else "ERROR",
            "log_to_driver": verbose,
            "include_dashboard": False,
        },
    }
    flwr_logger = logging.getLogger("flwr")
    level = flwr_logger.level
    if not verbose:
        flwr_logger.setLevel(logging.WARNING)
    try:
        _run_simulation(
            num_supernodes=sites,
            exit_event=EventType.FLWR_SIMULATION_RUN_LEAVE,
            client_app_attr=CLIENT_APP,
            server_app_attr=SERVER_APP,
            backend_config=backend_config,
            server_app_context=context,
            app_dir=str(app_dir),
            run=run,
            is_app=True,
            verbose_logging=verbose,
        )
    finally:
        flwr_logger.setLevel(level)
