"""A user's own CSV with a task file of their own (the docs/tasks.md recipe), federated."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from hydra import compose, initialize_config_module
from omegaconf import OmegaConf
from sklearn.datasets import load_breast_cancer

from conf.validate import validate
from tests.support.federation import build_federation

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


def test_own_csv_task_trains_across_sites(tmp_path: Path) -> None:
    bunch = load_breast_cancer(as_frame=True)
    table = bunch.frame[["mean radius", "mean texture", "mean smoothness"]].copy()
    table["clinic"] = ["north" if i % 3 else "south" for i in range(len(table))]
    table["diagnosis"] = [bunch.target_names[t] for t in bunch.target]
    csv = tmp_path / "clinic.csv"
    table.to_csv(csv, index=False)
    (tmp_path / "myconf" / "task").mkdir(parents=True)
    (tmp_path / "myconf" / "task" / "clinic.yaml").write_text(TASK_FILE.format(path=csv))

    with initialize_config_module(config_module="conf", version_base="1.3"):
        raw = compose("config", overrides=[
            f"hydra.searchpath=[file://{tmp_path / 'myconf'}]", "task=clinic", "sites=3",
            "rounds=5", "local_epochs=3", "task.learning_rate=0.5", "privacy=none",
            f"output_dir={tmp_path / 'run'}"])
    cfg = validate(OmegaConf.to_container(raw, resolve=True))
    assert cfg.task.name == "csv" and cfg.task.path == str(csv)

    fed = build_federation(cfg, tmp_path)
    assert all(p.suffix == ".csv" for p in (tmp_path / "data").iterdir())
    assert sum(len(pd.read_csv(p)) for p in (tmp_path / "data").iterdir()) == len(table)
    fed.run()
    rows = [json.loads(x) for x in (fed.run_dir / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["accuracy"] > 0.8
