"""Turn a task's pooled table into one data file per simulated site.

The server keeps a stratified held-out test set; the rest is partitioned (iid or
Dirichlet label skew, seeded) and each site's rows are written to its own file, so a
simulated site reads its data exactly as a deployed one does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from conf.schema import ExperimentConfig
from tasks.io import file_sha256, write_table
from tasks.partition import holdout_split, partition
from tasks.registry import get_task


@dataclass(frozen=True)
class SimulatedData:
    """Where the launcher put the data, and the SHA-256 of the coordinator's file (the
    server test set). The sites' files are not hashed into the coordinator's manifest: a
    hash of one site's file would confirm a guess of that whole file, a release no ε
    covers."""

    site_files: list[Path]
    site_rows: list[int]
    server_test: Path
    sha256: dict[str, str]


def write_site_data(cfg: ExperimentConfig, folder: Path) -> SimulatedData:
    """Check the task's source table, then split it into a server test file and one
    file per site (DataError naming the source file, column, row and value)."""
    task = get_task(cfg.task)
    table = task.source_table()
    # every defect a site would refuse, named in the user's own file before anything starts
    task.to_dataset(table, source=task.source_name)
    rest, holdout = holdout_split(table, task.label_column, cfg.simulation.server_test_fraction,
                                  cfg.seed)
    rest = rest.reset_index(drop=True)
    parts = partition(rest[task.label_column].to_numpy(), cfg.sites, cfg.partition, cfg.seed)
    folder.mkdir(parents=True, exist_ok=True)
    server_test = folder / f"server-test{task.data_suffix}"
    write_table(holdout, server_test)
    site_files = []
    for i, rows in enumerate(parts):
        path = folder / f"site-{i}{task.data_suffix}"
        write_table(rest.iloc[rows].reset_index(drop=True), path)
        site_files.append(path)
    sha = {server_test.name: file_sha256(server_test)}
    return SimulatedData(site_files, [len(rows) for rows in parts], server_test, sha)
