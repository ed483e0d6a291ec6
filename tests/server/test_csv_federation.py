"""A user's own CSV with a task file of their own (the docs/tasks.md recipe), federated."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from hydra import compose, initialize_config_module
from omegaconf import OmegaConf

from conf.validate import validate
from tests.support.clinic import write_clinic_task
from tests.support.federation import build_federation


def test_own_csv_task_trains_across_sites(tmp_path: Path) -> None:
    table, csv, conf_dir = write_clinic_task(tmp_path)
    with initialize_config_module(config_module="conf", version_base="1.3"):
        raw = compose("config", overrides=[
            f"hydra.searchpath=[file://{conf_dir}]", "task=clinic", "sites=3",
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
