"""The launcher's per-site files: disjoint, covering, hashed, in the task's format."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from simulations.site_data import write_site_data
from tasks.registry import get_task


def test_every_row_lands_in_exactly_one_file(make_config, tmp_path: Path) -> None:
    cfg = make_config("sites=4", "partition=dirichlet", "partition.alpha=0.5")
    data = write_site_data(cfg, tmp_path)
    tables = [pd.read_parquet(p) for p in data.site_files]
    holdout = pd.read_parquet(data.server_test)
    source = get_task(cfg.task).source_table()
    assert sum(map(len, tables)) + len(holdout) == len(source)
    assert len(holdout) == round(0.2 * len(source)) or abs(len(holdout) - 0.2 * len(source)) < 10
    pooled = pd.concat([*tables, holdout]).sort_values(list(source.columns)).reset_index(drop=True)
    expected = source.sort_values(list(source.columns)).reset_index(drop=True)
    pd.testing.assert_frame_equal(pooled, expected, check_dtype=False)
    for path in [*data.site_files, data.server_test]:
        assert data.sha256[path.name] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_same_seed_same_split(make_config, tmp_path: Path) -> None:
    cfg = make_config("sites=3")
    first = write_site_data(cfg, tmp_path / "a").sha256
    assert write_site_data(cfg, tmp_path / "b").sha256 == first
