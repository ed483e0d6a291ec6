"""The warm start takes only the pooled rows the task's declared encoding can encode."""

from __future__ import annotations

import numpy as np
import pandas as pd

from conf.schema import FeatureSpec, LabelSpec, TaskConfig
from server.warm_start import usable_rows
from synthetic.dp.domain import OTHER
from tasks.registry import get_task

TASK = get_task(TaskConfig(
    name="csv", path="unused.csv",
    features=(FeatureSpec("age", "numeric", low=0, high=100),
              FeatureSpec("smoker", "categorical", levels=("no", "yes"))),
    label=LabelSpec("outcome", ("ill", "well"))))


def test_rows_the_encoding_cannot_take_are_left_out_and_counted() -> None:
    table = pd.DataFrame({
        "site": ["a", "a", "b", "b", "b", "b"],
        "age": [30.0, np.nan, 50.0, 60.0, "old", 70.0],
        "smoker": ["no", "yes", OTHER, "no", "yes", "yes"],
        "outcome": ["ill", "well", "well", OTHER, "ill", "well"],
    })
    rows, dropped = usable_rows(table, TASK)
    assert dropped == 4 and list(rows["site"]) == ["a", "b"]
    x, y = TASK.to_dataset(rows).tensors  # the task's own encoding takes every row left
    assert x.shape == (2, 3) and y.tolist() == [0, 1]
