import pandas as pd
import pytest
import torch

from conf.schema import TaskConfig
from tasks.digits import DigitsTask
from tasks.errors import DataError
from tasks.io import read_table, write_table


@pytest.fixture(scope="module")
def task() -> DigitsTask:
    return DigitsTask(TaskConfig(name="digits"))


@pytest.fixture(scope="module")
def table(task) -> pd.DataFrame:
    return task.source_table()


def test_source_table_is_pixels_plus_label(task, table):
    assert table.shape == (1797, 65)
    assert list(table.columns) == [f"px{i}" for i in range(64)] + ["label"]
    assert task.label_column == "label" and task.data_suffix == ".parquet"
    pixels = table.drop(columns="label")
    assert pixels.min().min() == 0 and pixels.max().max() == 16
    assert sorted(table.label.unique()) == list(range(10))


def test_to_dataset_gives_scaled_images(task, table):
    x, y = task.to_dataset(table).tensors
    assert x.shape == (1797, 1, 8, 8) and x.dtype == torch.float32
    assert y.dtype == torch.int64 and y.tolist() == table.label.tolist()
    assert float(x.min()) == 0.0 and float(x.max()) == 1.0
    assert x[3, 0, 2, 5] == table.loc[3, "px21"] / 16  # row-major pixel order


def test_site_file_roundtrip_gives_the_same_tensors(task, table, tmp_path):
    path = tmp_path / f"site-0{task.data_suffix}"
    write_table(table.iloc[:50], path)
    read_back = task.to_dataset(read_table(path)).tensors
    direct = task.to_dataset(table.iloc[:50]).tensors
    assert all(torch.equal(a, b) for a, b in zip(read_back, direct, strict=True))


def test_model_maps_a_batch_to_ten_logits(task, table):
    x, _ = task.to_dataset(table.iloc[:4]).tensors
    assert task.build_model()(x).shape == (4, 10)


def test_wrong_file_is_a_data_error(task, table):
    with pytest.raises(DataError, match=r"site-2\.parquet: column\(s\) \['px63'\]"):
        task.to_dataset(table.drop(columns="px63"), source="site-2.parquet")
