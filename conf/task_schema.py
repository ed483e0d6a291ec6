"""The fingerprint of a task's declared data schema (task name, feature declarations,
label): what a deployed site's data file follows, compared with what a run asks for."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import yaml

from conf.errors import ConfigError
from conf.groups import CONF_DIR, group_choices
from conf.schema import TaskConfig
from conf.validate import build

SCHEMA_KEYS = ("name", "features", "label")


def task_schema_digest(task: TaskConfig) -> str:
    """SHA-256 (hex) of the task's name, declared features and label."""
    plain = {key: _plain(getattr(task, key)) for key in SCHEMA_KEYS}
    return hashlib.sha256(json.dumps(plain, sort_keys=True).encode()).hexdigest()


def load_task_schema(task: str, relative_to: Path) -> TaskConfig:
    """The task a site declares: a conf/task name (digits, tabular) or a task YAML file
    (e.g. a copy of conf/task/csv.yaml with the site's features and label filled in)."""
    path = CONF_DIR / "task" / f"{task}.yaml" if task in group_choices("task") else (
        relative_to / task)
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as err:
        raise ConfigError(f"task={task}: neither a task of conf/task ("
                          f"{', '.join(group_choices('task'))}) nor a readable YAML file "
                          f"({err.strerror})") from err
    if not isinstance(raw, dict):
        raise ConfigError(f"task file {path} is not a mapping of keys to values")
    declared = {k: raw[k] for k in SCHEMA_KEYS if k in raw and raw[k] != "???"}
    schema = build(TaskConfig, declared, "task")
    if schema.name == "csv" and (not schema.features or schema.label is None):
        raise ConfigError(f"task file {path}: a csv task must declare its features and label")
    return schema


def _plain(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value
