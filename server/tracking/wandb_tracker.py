"""W&B tracking: one W&B run per experiment, offline unless asked otherwise.

The W&B run lives in ``<run dir>/wandb/`` (or ``tracking.dir``), and so do W&B's
artifact staging copies and its service logs, unless the user set ``WANDB_DATA_DIR`` /
``WANDB_CACHE_DIR`` themselves. Every call into wandb is guarded: an error logs one
warning and the tracker goes quiet; ``init_timeout`` and ``finish_timeout`` bound the
waits of an online run without network.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import wandb

from conf.schema import ExperimentConfig
from server.tracking.base import NoTracker, Tracker
from server.tracking.rows import numeric_metrics

log = logging.getLogger("privfl")
T = TypeVar("T")

MODES = {"offline": "offline", "online": "online", "disabled": "disabled",
         "dryrun": "offline", "run": "online"}
"""``WANDB_MODE`` values W&B accepts, and the mode each means."""
INIT_TIMEOUT_S = 20.0
FINISH_TIMEOUT_S = 60.0
MODEL_FILES = ("model.pt",)


def resolve_mode(configured: str | None) -> str:
    """``tracking.mode``, else ``WANDB_MODE`` from the environment, else offline."""
    if configured is not None:
        return configured
    env = os.environ.get("WANDB_MODE")
    if env is None:
        return "offline"
    if env.lower() not in MODES:
        log.warning("WANDB_MODE=%s is not one of %s; tracking offline", env, ", ".join(MODES))
        return "offline"
    return MODES[env.lower()]


class WandbTracker:
    """Logs the config, each round's numbers, the outcome and the run's files to W&B."""

    def __init__(self, run: Any, staging_env: dict[str, str]) -> None:
        self._run: Any = run  # None once finished
        self._live = True  # False after an error: nothing more is logged
        self._staging_env = staging_env

    @classmethod
    def start(cls, cfg: ExperimentConfig) -> Tracker:
        """Start the W&B run. An online run that cannot start is tracked offline instead
        (``wandb sync`` uploads it later); a disabled mode or a failed offline start
        gives a no-op tracker."""
        mode = resolve_mode(cfg.tracking.mode)
        if mode == "disabled":
            return NoTracker()
        root = Path(cfg.tracking.dir or cfg.output_dir)
        staging_env = _stage_inside(root / "wandb")
        if mode == "online":
            ok, run = _guarded("start online", lambda: _init(cfg, root, mode),
                               then="tracking offline instead (`wandb sync` uploads it later)")
            mode = "offline" if not ok else mode
        if mode == "offline":
            ok, run = _guarded("start offline", lambda: _init(cfg, root, mode))
        if not ok:
            _restore(staging_env)
            return NoTracker()
        return cls(run, staging_env)

    def log_round(self, row: dict[str, Any]) -> None:
        run = self._run
        self._call("log a round", lambda: run.log(numeric_metrics(row), step=int(row["round"])))

    def finish(self, outcome: dict[str, Any], files: Sequence[Path]) -> None:
        if self._run is None:
            return
        run = self._run
        self._call("store the outcome", lambda: run.summary.update(
            {"outcome": outcome["status"], "rounds_completed": outcome["rounds_completed"]}))
        present = [f for f in files if f.is_file()]
        models = [f for f in present if f.name in MODEL_FILES]
        others = [f for f in present if f.name not in MODEL_FILES]
        for name, kind, chosen in (("model", "model", models), ("run-files", "run", others)):
            if chosen:
                self._call(f"store the {name} artifact",
                           lambda n=name, k=kind, c=chosen: run.log_artifact(_artifact(n, k, c)))
        self._run, self._live = None, False  # finish even after an error: it frees W&B
        _guarded("finish", lambda: run.finish(
            exit_code=0 if outcome["status"] == "finished" else 1))
        _guarded("shut down the W&B service", wandb.teardown)
        _restore(self._staging_env)

    def _call(self, what: str, call: Callable[[], object]) -> None:
        """Run ``call`` while tracking is live; after an error, log nothing more."""
        if self._live and not _guarded(what, call)[0]:
            self._live = False


def _init(cfg: ExperimentConfig, root: Path, mode: str) -> Any:
    """``wandb.init`` for this experiment: no console capture, system metrics, git state,
    code or requirements; bounded waits."""
    return wandb.init(
        project=cfg.tracking.project,
        entity=cfg.tracking.entity,
        group=cfg.tracking.group,
        name=cfg.tracking.run_name or Path(cfg.output_dir).name,
        tags=list(cfg.tracking.tags),
        config=dataclasses.asdict(cfg),
        dir=str(root),
        mode=mode,
        reinit="create_new",
        settings=wandb.Settings(
            console="off", silent=True, x_disable_stats=True, x_disable_meta=True,
            x_save_requirements=False, disable_git=True, disable_code=True, save_code=False,
            init_timeout=INIT_TIMEOUT_S, finish_timeout=FINISH_TIMEOUT_S),
    )


def _guarded(what: str, call: Callable[[], T], then: str = "the run goes on without it"
             ) -> tuple[bool, T | None]:
    """``(True, call())``, or ``(False, None)`` after one warning when it raises."""
    try:
        return True, call()
    except Exception as err:  # tracking must never stop a run
        first_line = (str(err).strip().splitlines() or [""])[0]
        log.warning("W&B tracking could not %s (%s: %s); %s",
                    what, type(err).__name__, first_line, then)
        return False, None


def _artifact(name: str, kind: str, files: Sequence[Path]) -> wandb.Artifact:
    artifact = wandb.Artifact(name, type=kind)
    for path in files:
        artifact.add_file(str(path), name=path.name)
    return artifact


def _stage_inside(folder: Path) -> dict[str, str]:
    """Point W&B's artifact staging and service logs into ``folder`` unless the user
    chose their own; returns the variables set here (to undo with :func:`_restore`)."""
    chosen = {name: str(folder / sub) for name, sub in
              (("WANDB_DATA_DIR", "data"), ("WANDB_CACHE_DIR", "cache"))
              if name not in os.environ}
    os.environ.update(chosen)
    return chosen


def _restore(chosen: dict[str, str]) -> None:
    for name, value in chosen.items():
        if os.environ.get(name) == value:
            del os.environ[name]
