"""The environment of every Flower process privfl starts (``flower-superlink``,
``flower-supernode``, ``flwr``, and the ``flwr-serverapp``/``flwr-clientapp`` processes
they start in turn): the executables of this interpreter's environment first on ``PATH``,
so that every process runs the same installed Flower and privfl (a virtual environment
that is not activated, or one that sees another environment's packages, would otherwise
run another copy); no per-run ``uv sync`` (it would pull a CUDA torch); telemetry off
unless the user turned it on."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

NO_DEPENDENCY_INSTALL = {"FLWR_DISABLE_RUNTIME_DEPENDENCY_INSTALLATION": "1"}


def flower_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) prepared for a Flower process."""
    env = dict(os.environ if base is None else base)
    here = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([here, env["PATH"]]) if env.get("PATH") else here
    env.setdefault("FLWR_TELEMETRY_ENABLED", "0")
    return {**env, **NO_DEPENDENCY_INSTALL}
