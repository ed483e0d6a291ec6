"""A slow site inside SecAgg+ through the real Simulation Runtime (Ray).

site-1 runs privfl's ClientApp, but in round 1 it holds its answer to the ``mask`` stage
(where it trains) for 120 s, and with it the Ray actor running it
(``tests/support/slow_site_app.py``). The coordinator must drop it when the stage
timeout expires and finish the round with the other three sites; in round 2 the site,
served by another actor, takes part again; once the ServerApp has finished, the runtime
stops the still-sleeping actor instead of waiting for it. One run serves every assertion.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from conf import protocol
from simulations.runtime import BUSY_SITE_GRACE_SECONDS
from tests.support.slow_site_app import SLOW_ENV, STATE_DIR_ENV, Delay

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SLOW = Delay(site="site-1", stage=protocol.MASK, round=1, seconds=120.0)
STAGE_TIMEOUT = 5.0
MARGIN = 15.0      # what a round takes besides waiting: the other sites' work, evaluation
# a busy site's actor is stopped BUSY_SITE_GRACE_SECONDS after the ServerApp ends; Ray's
# shutdown then takes ~3-5 s
EXIT_GRACE = BUSY_SITE_GRACE_SECONDS + 15.0
DEADLINE = 300.0   # only a broken run gets near this


@dataclass
class SlowRun:
    """One simulation with a slow site; times are seconds since launch."""

    run_dir: Path
    state_dir: Path
    pid: int
    returncode: int
    stdout: str
    stderr: str
    server_done: float | None     # outcome.json appeared (the ServerApp finished)
    woke_by_then: bool            # the slow site had answered by then
    exited_unaided: float | None  # the process ended before the site was released
    released: float               # the test ended the site's delay
    ended: float                  # the process ended

    def rows(self) -> list[dict]:
        lines = (self.run_dir / "metrics.jsonl").read_text().splitlines()
        return [json.loads(line) for line in lines]

    def json(self, name: str) -> dict:
        return json.loads((self.run_dir / name).read_text())


def _wait(done: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@pytest.fixture(scope="module")
def slow_run(tmp_path_factory) -> SlowRun:
    if (os.cpu_count() or 1) < 2:
        pytest.skip("needs two Ray actors (2 CPUs): the slow site holds one")
    base = tmp_path_factory.mktemp("slow-site")
    run_dir, state_dir = base / "run", base / "slow-site"
    state_dir.mkdir()
    overrides = ["sites=4", "rounds=2", "privacy=none", "secagg=secaggplus",
                 f"secagg.stage_timeout={STAGE_TIMEOUT:g}", "strategy.round_timeout=60",
                 f"hydra.run.dir={run_dir}"]
    code = ("import sys; from tests.support.slow_site_app import simulate; "
            "sys.exit(simulate(sys.argv[1:]))")
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": path,
           SLOW_ENV: str(SLOW), STATE_DIR_ENV: str(state_dir)}
    out, err = base / "stdout.txt", base / "stderr.txt"
    with out.open("w") as stdout, err.open("w") as stderr:
        start = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-c", code, *overrides], cwd=base, env=env,
                                stdout=stdout, stderr=stderr)
        server_done = exited_unaided = None
        woke = False
        try:
            if _wait(lambda: (run_dir / "outcome.json").exists() or proc.poll() is not None,
                     DEADLINE) and (run_dir / "outcome.json").exists():
                server_done = time.monotonic() - start
                woke = (state_dir / "woke").exists()
            if _wait(lambda: proc.poll() is not None, EXIT_GRACE):
                exited_unaided = time.monotonic() - start
        finally:
            (state_dir / "release").touch()
            released = time.monotonic() - start
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            ended = time.monotonic() - start
    run = SlowRun(run_dir, state_dir, proc.pid, proc.returncode, out.read_text(),
                  err.read_text(), server_done, woke, exited_unaided, released, ended)
    print(f"slow-site run: ServerApp done at {server_done}, exited unaided at "
          f"{exited_unaided}, released at {released:.1f}, ended at {ended:.1f} s")
    return run


def test_round_drops_the_slow_site_at_the_stage_timeout(slow_run: SlowRun) -> None:
    assert slow_run.returncode == 0, slow_run.stderr[-3000:]
    assert slow_run.json("outcome.json")["status"] == "finished"
    sleeping = json.loads((slow_run.state_dir / "sleeping").read_text())
    assert sleeping["delay"] == str(SLOW)
    assert sleeping["pid"] != slow_run.pid  # the delay ran in a Ray worker, not the driver
    assert slow_run.server_done is not None
    assert not slow_run.woke_by_then  # the run finished while the site was still asleep

    first, second = slow_run.rows()
    assert (first["sites_sampled"], first["sites_trained"]) == (4, 3)
    [failed] = first["failed"]
    assert failed["site"] == SLOW.site
    assert SLOW.stage in failed["reason"]
    assert f"no reply within {STAGE_TIMEOUT:g} s" in failed["reason"]
    # its first actor still sleeps; another actor serves it, and it trains again
    assert (second["sites_trained"], second["failed"]) == (4, [])

    timing = slow_run.json("timing.json")
    assert STAGE_TIMEOUT <= timing["round_seconds"][0] < STAGE_TIMEOUT + MARGIN
    assert timing["rounds_seconds"] < STAGE_TIMEOUT + MARGIN < SLOW.seconds / 4

    initial = torch.load(slow_run.run_dir / "checkpoints/round-000.pt")
    for name in ("checkpoints/round-001.pt", "model.pt"):
        state = torch.load(slow_run.run_dir / name)
        assert any(not torch.equal(initial[k], state[k]) for k in initial), name


def test_run_ends_without_waiting_for_the_slow_site(slow_run: SlowRun) -> None:
    assert slow_run.server_done is not None
    assert slow_run.exited_unaided is not None, (
        f"the ServerApp finished {slow_run.server_done:.1f} s after launch; the process "
        f"was still running {EXIT_GRACE:g} s later, while the slow site slept; released "
        f"then, it ended {slow_run.ended - slow_run.released:.1f} s after")
    assert slow_run.returncode == 0
    assert "stopping its Ray actor" in slow_run.stderr
    assert not (slow_run.state_dir / "woke").exists()  # its actor was stopped, not awaited
