from typing import get_args

import pytest

from conf.errors import ConfigError
from conf.schema import TaskConfig, TaskName
from tasks.base import Task
from tasks.csv_file import CsvTask
from tasks.digits import DigitsTask
from tasks.registry import TASKS, get_task
from tasks.tabular import TabularTask


def test_registry_names_equal_the_schema_literal():
    assert set(TASKS) == set(get_args(TaskName))
    assert all(name == task.name and issubclass(task, Task) for name, task in TASKS.items())


@pytest.mark.parametrize(
    ("overrides", "cls"),
    [(["task=digits"], DigitsTask), (["task=tabular"], TabularTask)],
)
def test_get_task_builds_the_configured_task(make_config, overrides, cls):
    cfg = make_config(*overrides).task
    task = get_task(cfg)
    assert type(task) is cls and task.cfg is cfg


def test_csv_yaml_with_schema_gives_csv_task(make_config, tmp_path):
    cfg = make_config(
        "task=csv",
        f"task.path={tmp_path / 'site.parquet'}",
        "task.features=[{name: x, type: numeric, low: 0, high: 1}]",
        "task.label={name: y, classes: [a, b]}",
    ).task
    task = get_task(cfg)
    assert type(task) is CsvTask and task.data_suffix == ".parquet"


def test_unknown_task_lists_the_registered_names():
    message = r"^task\.name='mnist': unknown; registered tasks: digits, tabular, csv$"
    with pytest.raises(ConfigError, match=message):
        get_task(TaskConfig(name="mnist"))  # type: ignore[arg-type]
