"""The environment of the Flower processes privfl starts."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from conf.flower_env import flower_env


def test_this_interpreters_executables_come_first_and_nothing_is_installed() -> None:
    env = flower_env({"PATH": "/usr/bin", "HOME": "/home/site"})
    assert env["PATH"].split(os.pathsep) == [str(Path(sys.executable).parent), "/usr/bin"]
    assert env["FLWR_DISABLE_RUNTIME_DEPENDENCY_INSTALLATION"] == "1"
    assert env["FLWR_TELEMETRY_ENABLED"] == "0" and env["HOME"] == "/home/site"


def test_a_users_telemetry_choice_is_kept() -> None:
    assert flower_env({"FLWR_TELEMETRY_ENABLED": "1"})["FLWR_TELEMETRY_ENABLED"] == "1"
