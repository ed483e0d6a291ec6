"""A user's own table for csv-task tests: scikit-learn's breast cancer set as a CSV plus a
task file of the user's own (the docs/tasks.md recipe)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sklearn.datasets import load_breast_cancer

TASK_FILE = """\
defaults:
  - csv
  - _self_
path: {path}
features:
  - {{name: mean radius, type: numeric, low: 5, high: 30}}
  - {{name: mean texture, type: numeric, low: 5, high: 40}}
  - {{name: mean smoothness, type: numeric, low: 0.05, high: 0.17}}
  - {{name: clinic, type: categorical, levels: ["north", "south"]}}
label: {{name: diagnosis, classes: ["malignant", "benign"]}}
"""


def write_clinic_task(root: Path) -> tuple[pd.DataFrame, Path, Path]:
    """Write ``clinic.csv`` and ``myconf/task/clinic.yaml`` under ``root``.

    Returns the table, the CSV path and the config folder for ``hydra.searchpath``.
    """
    bunch = load_breast_cancer(as_frame=True)
    table = bunch.frame[["mean radius", "mean texture", "mean smoothness"]].copy()
    table["clinic"] = ["north" if i % 3 else "south" for i in range(len(table))]
    table["diagnosis"] = [bunch.target_names[t] for t in bunch.target]
    csv = root / "clinic.csv"
    table.to_csv(csv, index=False)
    conf_dir = root / "myconf"
    (conf_dir / "task").mkdir(parents=True)
    (conf_dir / "task" / "clinic.yaml").write_text(TASK_FILE.format(path=csv))
    return table, csv, conf_dir
