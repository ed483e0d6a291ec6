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
import signal
import threading
from pathlib import Path

from flwr.app import Context, RecordDict
from flwr.common.constant import SUPERLINK_NODE_ID
from flwr.simulation.run_simulation import _run_simulation
from flwr.supercore.constant import NOOP_FEDERATION_ID
from flwr.supercore.run import Run
from flwr.supercore.task_identity import TaskIdentity
from flwr.supercore.telemetry import EventType

from conf import flower_app
from conf.site import SITE_SETTINGS_ENV

SERVER_APP = flower_app.SERVER_APP
CLIENT_APP = flower_app.CLIENT_APP
ACTOR_TITLE = b"ray::ClientAppActor"  # the process title Ray gives flwr's actors
BUSY_SITE_GRACE_SECONDS = 10.0  # a normal end (Ray shutdown included) takes 3-5 s here
log = logging.getLogger("privfl")


def write_app_dir(folder: Path, run_config: dict) -> Path:
    """The Flower app directory of a simulated run (:func:`conf.flower_app.write_app_dir`)."""
    return flower_app.write_app_dir(folder, run_config, SERVER_APP, CLIENT_APP)


class _BusySiteWatchdog(threading.Thread):
    """Ends the ClientApp actors still busy once the ServerApp has finished.

    flwr 1.42 leaves the Simulation Runtime only when every worker thread returns, and a
    worker waits without a timeout (``ray.get`` in ``BasicActorPool``) for the ClientApp
    call it dispatched: a site still working on a message the coordinator gave up on (a
    stage timeout) would keep the run's process alive until it answers. Once ``finished``
    exists (outcome.json: the rounds are over, only the report and tracking follow) and
    the runtime has not ended ``grace`` seconds later, the actor processes are killed;
    the waiting call then fails and the runtime shuts down as usual.
    """

    def __init__(self, finished: Path, grace: float) -> None:
        super().__init__(name="privfl-busy-site-watchdog", daemon=True)
        self.finished = finished
        self.grace = grace
        self.runtime_ended = threading.Event()

    def run(self) -> None:
        while not self.runtime_ended.wait(0.5):
            if self.finished.exists():
                if not self.runtime_ended.wait(self.grace):
                    log.warning("the run has ended but a site is still busy with a message "
                                "the coordinator gave up on; stopping its Ray actor")
                    logging.getLogger("flwr").setLevel(logging.CRITICAL)
                    for pid in _client_actor_pids():
                        os.kill(pid, signal.SIGKILL)
                return


def _client_actor_pids() -> list[int]:
    """PIDs of this process's Ray ClientApp actors (from /proc; none where it is absent)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    ours = {os.getpid()}
    for _ in range(4):  # driver -> raylet -> worker (a few levels at most)
        ours |= {pid for pid, parent in parents.items() if parent in ours}
    pids = []
    for pid in ours - {os.getpid()}:
        try:
            title = (Path("/proc") / str(pid) / "cmdline").read_bytes()
        except OSError:
            continue
        if title.startswith(ACTOR_TITLE):
            pids.append(pid)
    return pids


def run_federation(app_dir: Path, run_config: dict, sites: int, site_settings: Path,
                   cpus_per_site: float, verbose: bool, finished: Path) -> None:
    """Start Ray, run the ServerApp and the simulated ClientApps, stop Ray (also when a
    site is still busy once ``finished``, outcome.json, exists)."""
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
    watchdog = _BusySiteWatchdog(finished, BUSY_SITE_GRACE_SECONDS)
    watchdog.start()
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
        watchdog.runtime_ended.set()
        flwr_logger.setLevel(level)
