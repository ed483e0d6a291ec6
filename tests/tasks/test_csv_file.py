import pandas as pd
import pytest
import torch

from conf.errors import ConfigError
from conf.schema import FeatureSpec, LabelSpec, TaskConfig
from tasks.csv_file import CsvTask
from tasks.errors import DataError
from tasks.io import write_table

FEATURES = (
    FeatureSpec("age", "numeric", low=0, high=100),
    FeatureSpec("smoker", "categorical", levels=("no", "yes")),
)
LABEL = LabelSpec("outcome", ("healthy", "ill"))
TABLE = pd.DataFrame(
    {
        "age": [20, 50, 80, 35],
        "smoker": ["no", "yes", "yes", "no"],
        "outcome": ["healthy", "ill", "ill", "healthy"],
        "notes": ["a", "b", "c", "d"],  # undeclared columns are ignored
    }
)


def config(path, **overrides) -> TaskConfig:
    return TaskConfig(name="csv", path=str(path), features=FEATURES, label=LABEL, **overrides)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_reads_the_users_file_and_keeps_its_format(tmp_path, suffix):
    path = tmp_path / f"mine{suffix}"
    write_table(TABLE, path)
    task = CsvTask(config(path))
    assert task.data_suffix == suffix and task.label_column == "outcome"
    pd.testing.assert_frame_equal(task.source_table(), TABLE)
    x, y = task.to_dataset(task.source_table()).tensors
    expected = [[0.2, 1, 0], [0.5, 0, 1], [0.8, 0, 1], [0.35, 1, 0]]
    assert torch.allclose(x, torch.tensor(expected))
    assert y.tolist() == [0, 1, 1, 0]


def test_model_width_follows_the_declared_schema(tmp_path):
    model = CsvTask(config(tmp_path / "d.csv", hidden_units=5)).build_model()
    assert model(torch.zeros(2, 3)).shape == (2, 2)
    assert model.layers[0].out_features == 5


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"path": None}, "task.path: missing"),
        ({"path": "data/site.xlsx"}, r"task.path=data/site.xlsx: unsupported file type"),
        ({"label": None}, "task.label: declare the label column"),
        ({"features": ()}, "task.features: declare at least one input column"),
        (
            {"features": (FeatureSpec("age", "numeric", low=9, high=1),)},
            r"task.features\[0\] \(age\): low=9 must be < high=1",
        ),
    ],
)
def test_config_errors(overrides, message):
    cfg = TaskConfig(name="csv", path="d.csv", features=FEATURES, label=LABEL)
    with pytest.raises(ConfigError, match=message):
        CsvTask(TaskConfig(**{**cfg.__dict__, **overrides}))


def test_missing_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match=r"absent\.csv: no such data file"):
        CsvTask(config(tmp_path / "absent.csv")).source_table()


def test_yaml_leaves_path_for_the_user(make_config):
    with pytest.raises(ConfigError, match=r"task\.path: missing"):
        make_config("task=csv")
