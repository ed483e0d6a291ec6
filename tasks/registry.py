"""Task names (the values of ``task.name``) mapped to their implementations."""

from __future__ import annotations

from conf.errors import ConfigError
from conf.schema import TaskConfig
from tasks.base import Task
from tasks.csv_file import CsvTask
from tasks.digits import DigitsTask
from tasks.tabular import TabularTask

TASKS: dict[str, type[Task]] = {task.name: task for task in (DigitsTask, TabularTask, CsvTask)}


def get_task(cfg: TaskConfig) -> Task:
    """The task ``cfg.name`` names, built from ``cfg``."""
    task = TASKS.get(cfg.name)
    if task is None:
        raise ConfigError(f"task.name={cfg.name!r}: unknown; registered tasks: {', '.join(TASKS)}")
    return task(cfg)
