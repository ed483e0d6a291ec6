"""Real ``privfl deploy`` processes on loopback for tests: free ports, a private
``FLWR_HOME``, each process in its own process group, every one stopped at the end
(also when the test fails)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
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
