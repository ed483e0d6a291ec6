"""The launcher's per-site files: disjoint, covering, in the task's format; only the
coordinator's test file is hashed."""

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
    # only the coordinator's own file is hashed (for the manifest), no site's
    assert data.sha256 == {data.server_test.name:
                           hashlib.sha256(data.server_test.read_bytes()).hexdigest()}


def test_same_seed_same_split(make_config, tmp_path: Path) -> None:
    cfg = make_config("sites=3")
    first, second = write_site_data(cfg, tmp_path / "a"), write_site_data(cfg, tmp_path / "b")
    assert second.sha256 == first.sha256
    assert [p.read_bytes() for p in second.site_files] == \
        [p.read_bytes() for p in first.site_files]
