"""The warm start's repair of DP MST cells the task's encoding cannot take."""

from __future__ import annotations

import numpy as np
import pandas as pd

from conf.schema import FeatureSpec, LabelSpec, TaskConfig
from server.warm_start import repaired
from synthetic.dp.domain import OTHER
from tasks.registry import get_task

TASK = get_task(TaskConfig(
    name="csv", path="unused.csv",
    features=(FeatureSpec("age", "numeric", low=0, high=100),
              FeatureSpec("smoker", "categorical", levels=("no", "yes"))),
    label=LabelSpec("outcome", ("ill", "well"))))


def test_bad_feature_cells_are_drawn_from_their_column_and_bad_labels_dropped() -> None:
    table = pd.DataFrame({
        "site": ["a", "a", "b", "b", "b"],
        "age": [30.0, np.nan, 50.0, 60.0, 70.0],
        "smoker": ["no", "yes", OTHER, None, "yes"],
        "outcome": ["ill", "well", "well", OTHER, "ill"],
    })
    rows, dropped, imputed = repaired(table, TASK, seed=0)
    assert (len(rows), dropped, imputed) == (4, 1, 2)  # the OTHER label's row is left out
    assert rows.loc[1, "age"] in (30.0, 50.0, 70.0)
    assert rows.loc[2, "smoker"] in ("no", "yes")
    assert list(rows["site"]) == ["a", "a", "b", "b"]
    x, y = TASK.to_dataset(rows).tensors  # the task's own encoding takes every row
    assert x.shape == (4, 3) and y.tolist() == [0, 1, 1, 0]
    again, _, _ = repaired(table, TASK, seed=0)
    pd.testing.assert_frame_equal(rows, again)  # seeded: not secret, reproducible


def test_a_column_without_any_usable_cell_leaves_nothing_to_train_on() -> None:
    table = pd.DataFrame({"age": [np.nan, np.nan], "smoker": ["no", "yes"],
                          "outcome": ["ill", "well"]})
    rows, dropped, imputed = repaired(table, TASK, seed=0)
    assert rows.empty and dropped == 2 and imputed == 0
