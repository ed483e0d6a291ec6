"""Check `privfl simulate` overrides before Hydra runs, so every mistake is one line.

Hydra reports composition errors (an unknown key, a key the chosen group does not have)
over several lines; here the config is composed with the compose API and validated, once
per value of each sweep (the other overrides at their first value), and any error
becomes a one-line ConfigError.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from hydra import compose, initialize_config_module
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override
from hydra.errors import HydraException
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from conf.errors import ConfigError
from conf.groups import check_group_overrides
from conf.validate import validate


def precheck(args: list[str], config_name: str = "config",
             check: Callable[[dict], Any] = validate) -> None:
    """ConfigError (one line) for anything Hydra or the schema would refuse; ``check``
    validates the composed root config ``config_name`` (``privfl audit``: ``audit``)."""
    overrides = [a for a in args if not a.startswith("-")]
    if not any(o.startswith("hydra.searchpath") for o in overrides):
        check_group_overrides(overrides)  # with extra config dirs, compose checks choices
    parser = OverridesParser.create()
    parsed = []
    for override in overrides:
        try:
            parsed += parser.parse_overrides([override])
        except HydraException as err:
            raise ConfigError(f"cannot parse {override!r}: {_one_line(err)}") from err
    base = [_with_value(o, _values(o)[0]) for o in parsed]
    variants = [base] + [
        [*base[:i], _with_value(o, value), *base[i + 1:]]
        for i, o in enumerate(parsed) if o.is_sweep_override() for value in _values(o)[1:]
    ]
    with initialize_config_module(config_module="conf", version_base="1.3"):
        for variant in variants:
            raw = _compose(variant, config_name)
            check(raw)
            _check_folders(variant, raw)


FOLDER_OVERRIDES = ("hydra.run.dir", "hydra.sweep.dir")


def _check_folders(overrides: list[str], raw: dict) -> None:
    """The run folder and the ledger folder must be folders privfl can create and write."""
    folders = {o.split("=", 1)[0]: o.split("=", 1)[1] for o in overrides
               if o.split("=", 1)[0] in FOLDER_OVERRIDES}
    ledger_dir = (raw.get("simulation") or {}).get("ledger_dir")
    if ledger_dir:
        folders["simulation.ledger_dir"] = ledger_dir
    for key, folder in folders.items():
        if "${" not in folder:
            check_writable_folder(key, folder)


def check_writable_folder(key: str, folder: str) -> None:
    """ConfigError (one line) unless ``folder`` is, or can be created as, a writable folder."""
    path = Path(folder).expanduser().absolute()
    existing = next(p for p in (path, *path.parents) if p.exists())
    if not existing.is_dir():
        raise ConfigError(f"{key}={folder}: {existing} is a file, not a folder; choose "
                          "another path")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"{key}={folder}: cannot write in {existing} (permission denied); "
                          "choose a folder you can write")


def _compose(overrides: list[str], config_name: str) -> dict:
    try:
        raw = compose(config_name, overrides=[*overrides, "output_dir=."])
        return OmegaConf.to_container(raw, resolve=True)
    except yaml.YAMLError as err:
        raise ConfigError(f"a config file is not valid YAML: {_one_line(err)}") from err
    except (HydraException, OmegaConfBaseException) as err:
        message = _one_line(err)
        if message.startswith("Could not override '"):
            key = message.split("'")[1]
            message = (f"{key}: no such key in this config; check the spelling, or choose the "
                       "group that has it (e.g. partition=dirichlet for partition.alpha)")
        raise ConfigError(message) from err


def _one_line(err: Exception) -> str:
    return "; ".join(line.strip() for line in str(err).splitlines() if line.strip())


def _values(override: Override) -> list[str]:
    if override.is_sweep_override():
        return list(override.sweep_string_iterator())
    return [override.input_line.split("=", 1)[1]]


def _with_value(override: Override, value: str) -> str:
    return f"{override.input_line.split('=', 1)[0]}={value}"
