"""Real ``privfl deploy`` processes on loopback for tests: free ports, a private
``FLWR_HOME``, each process in its own process group, every one stopped at the end
(also when the test fails)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

STOP_GRACE_SECONDS = 10.0


def free_port() -> int:
    """A TCP port nothing listens on now (bound to port 0, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Processes:
    """Processes started by one test module; :meth:`stop_all` ends their whole groups."""

    def __init__(self, logs: Path, env: dict[str, str]) -> None:
        self.logs = logs
        self.env = env
        self.started: dict[str, subprocess.Popen] = {}
        logs.mkdir(parents=True, exist_ok=True)

    def start(self, name: str, command: list[str]) -> subprocess.Popen:
        """Start ``command`` in a new process group, output to ``logs/<name>.log``."""
        with (self.logs / f"{name}.log").open("wb") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                       env=self.env, start_new_session=True)
        self.started[name] = process
        return process

    def privfl(self, name: str, *args: str) -> subprocess.Popen:
        """Start ``privfl ARGS`` (as ``python -m privfl.cli``)."""
        return self.start(name, [sys.executable, "-m", "privfl.cli", *args])

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def wait_for(self, name: str, text: str, timeout: float) -> None:
        """Wait until ``text`` is in the log of ``name``; AssertionError with the log tail
        if it has not appeared in time or the process ended first."""
        wait_until(lambda: text in self.log(name), timeout,
                   lambda: self.started[name].poll() is not None,
                   lambda: f"{text!r} not in {name}'s log:\n{self.log(name)[-3000:]}")

    def kill(self, name: str) -> None:
        """SIGKILL the whole group of ``name`` (a site dying)."""
        _signal_group(self.started[name], signal.SIGKILL)
        self.started[name].wait()

    def stop_all(self) -> None:
        """SIGTERM every group, SIGKILL what is left after a grace period."""
        for process in self.started.values():
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for process in self.started.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            _signal_group(process, signal.SIGKILL)  # children left behind too
            process.wait()


def wait_until(done: Callable[[], bool], timeout: float, failed: Callable[[], bool],
               message: Callable[[], str]) -> None:
    """Poll ``done`` every 0.3 s; AssertionError on timeout or when ``failed``."""
    deadline = time.monotonic() + timeout
    while not done():
        if failed() or time.monotonic() > deadline:
            raise AssertionError(message())
        time.sleep(0.3)


def _signal_group(process: subprocess.Popen, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


START_SECONDS = 180.0


@dataclass
class Deployment:
    """A running SuperLink and its sites, as the users' commands started them."""

    root: Path
    processes: Processes
    port: int
    env: dict[str, str]
    test_file: Path
    startup_seconds: dict[str, float]

    def site_dir(self, i: int) -> Path:
        return self.root / f"site-{i}"

    def privfl(self, *args: str, timeout: float = 1800) -> subprocess.CompletedProcess:
        """``privfl ARGS`` at the coordinator, to its end."""
        return subprocess.run([sys.executable, "-m", "privfl.cli", *args], env=self.env,
                              cwd=self.root / "coordinator", capture_output=True, text=True,
                              timeout=timeout, check=False)


@contextlib.contextmanager
def running_deployment(root: Path, sites: int, overrides: list[str]) -> Iterator[Deployment]:
    """``privfl certs``, ``privfl deploy superlink`` and one ``privfl deploy supernode``
    per site (own folder: CSV, ledger folder, key bundle, config file) on loopback, with
    their own ``FLWR_HOME``; every process is stopped on exit, also on failure."""
    env = {**os.environ, "FLWR_HOME": str(root / "flwr-home"), "PYTHONUNBUFFERED": "1",
           "FLWR_TELEMETRY_ENABLED": "0"}
    processes = Processes(root / "logs", env)
    port = free_port()
    test_file = _site_data(root, overrides)
    deployment = Deployment(root, processes, port, env, test_file, {})
    try:
        started = time.monotonic()
        certs = deployment.privfl("certs", f"out={root / 'certs'}", f"sites={sites}",
                                  "hosts=[localhost,127.0.0.1]")
        assert certs.returncode == 0, certs.stderr
        processes.privfl("superlink", "deploy", "superlink", f"certs={root / 'certs'}",
                         "host=127.0.0.1", f"port={port}")
        processes.wait_for("superlink", "site keys registered", START_SECONDS)
        deployment.startup_seconds["superlink"] = time.monotonic() - started
        started = time.monotonic()
        for i in range(sites):
            config = _site_config(root, i, port)
            processes.privfl(f"site-{i}", "deploy", "supernode", f"site={config}",
                             f"runtime_port={free_port()}", "--init-ledger")
        for i in range(sites):
            processes.wait_for(f"site-{i}", "SuperNode ID", START_SECONDS)
        deployment.startup_seconds["supernodes"] = time.monotonic() - started
        yield deployment
    finally:
        processes.stop_all()


def _site_data(root: Path, overrides: list[str]) -> Path:
    """The task's table (``overrides`` name the task and the number of sites) split into
    one CSV per site folder and a coordinator test file."""
    from hydra import compose, initialize_config_module
    from omegaconf import OmegaConf

    from conf.validate import validate
    from simulations.site_data import write_site_data
    from tasks.io import read_table, write_table

    with initialize_config_module(config_module="conf", version_base="1.3"):
        raw = compose("config", overrides=[*overrides, "output_dir=."])
    data = write_site_data(validate(OmegaConf.to_container(raw, resolve=True)),
                           root / "split")
    for i, path in enumerate(data.site_files):
        (root / f"site-{i}" / "data").mkdir(parents=True)
        (root / f"site-{i}" / "ledger").mkdir()
        write_table(read_table(path), root / f"site-{i}" / "data" / "table.csv")
    test_file = root / "coordinator" / "test.csv"
    test_file.parent.mkdir()
    write_table(read_table(data.server_test), test_file)
    shutil.rmtree(root / "split")
    return test_file


def _site_config(root: Path, i: int, port: int) -> Path:
    """Site i's own config file, its bundle from ``privfl certs`` copied next to it."""
    import yaml

    folder = root / f"site-{i}"
    shutil.copytree(root / "certs" / "sites" / f"site-{i}", folder / "keys")
    config = {
        "site": f"site-{i}", "superlink": f"127.0.0.1:{port}",
        "data_path": "data/table.csv", "task": "tabular",
        "ledger_path": "ledger/ledger.json", "budget": 10.0, "delta": 1e-5,
        "root_certificates": "keys/ca.crt", "auth_key": "keys/auth.key",
        "identity_key": "keys/identity.key", "roster": "keys/roster.json",
        "min_noise_multiplier": 0.3, "max_epsilon_per_run": 5.0, "max_retries": 3,
    }
    path = folder / "site.yaml"
    path.write_text(yaml.safe_dump(config))
    return path
