"""``flwr run APP --stream`` as a child of ``privfl deploy run``: its output echoed, and
an interrupt (SIGTERM, SIGINT) stops the run on the SuperLink, not just the watcher.

Without this, stopping ``privfl deploy run`` left the ServerApp running on the SuperLink,
which went on sending rounds to the sites and charging their ledgers.
"""

from __future__ import annotations

import contextlib
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from conf.flower_env import flower_env
from server.deployment.connection import CONNECTION

STARTED = re.compile(r"Successfully started run (\d+)")
STOP_SECONDS = 60


class Interrupted(Exception):
    """``privfl deploy run`` received ``signum``."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def follow_run(app: Path) -> int:
    """Submit ``app`` and stream its logs until the run ends; its exit status.

    On SIGTERM or SIGINT: ``flwr stop`` the run, say so on stderr, and exit with
    128 + the signal's number (the caller's process ends here)."""
    process = subprocess.Popen(["flwr", "run", str(app), CONNECTION, "--stream"],
                               env=flower_env(), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    run_id: int | None = None
    try:
        with _signals_raise():
            assert process.stdout is not None
            for line in process.stdout:
                print(line, end="", flush=True)
                run_id = run_id or _run_id(line)
            return process.wait()
    except Interrupted as interrupt:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            rest = process.communicate(timeout=10)[0] or ""
            run_id = run_id or _run_id(rest)
        print(f"privfl: interrupted by {interrupt}: {_stop(run_id)}", file=sys.stderr,
              flush=True)
        sys.exit(128 + interrupt.signum)


def _run_id(text: str) -> int | None:
    match = STARTED.search(text)
    return int(match.group(1)) if match else None


def _stop(run_id: int | None) -> str:
    """Stop ``run_id`` on the SuperLink; what happened, for the one-line message."""
    if run_id is None:
        return ("the SuperLink had not confirmed a run yet; check `flwr ls privfl` and stop "
                "any run of this submission with `flwr stop RUN_ID privfl`")
    stop = subprocess.run(["flwr", "stop", str(run_id), CONNECTION], env=flower_env(),
                          capture_output=True, text=True, timeout=STOP_SECONDS, check=False)
    if stop.returncode != 0:
        said = (stop.stderr or stop.stdout).strip().splitlines() or ["no output"]
        return (f"could not stop run {run_id} on the SuperLink ({said[-1]}); stop it with "
                f"`flwr stop {run_id} privfl` or the sites go on training and charging for it")
    return (f"stopped run {run_id} on the SuperLink (flwr stop): no site trains or is "
            "charged for it any more; the rounds it completed stay charged in the sites' "
            "ledgers")


@contextlib.contextmanager
def _signals_raise() -> Iterator[None]:
    """Within the body, SIGTERM and SIGINT raise :class:`Interrupted`."""
    def interrupted(signum: int, frame: object) -> None:
        raise Interrupted(signum)

    previous = {s: signal.signal(s, interrupted) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
