"""Whole runs through the real `privfl simulate` (Hydra + Flower Simulation Runtime)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class CliRun:
    """A finished `privfl` invocation."""

    returncode: int
    stdout: str
    stderr: str


def run_privfl(*args: str, cwd: Path, timeout: float = 600) -> CliRun:
    """Run the installed console script as a user would."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run([sys.executable, "-m", "privfl.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)
    return CliRun(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("e2e")
