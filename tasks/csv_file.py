"""The generic task: a CSV or Parquet file at ``task.path`` with a declared schema."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from conf.errors import ConfigError
from conf.schema import TaskConfig
from tasks.declared import DeclaredSchemaTask
from tasks.io import TABLE_SUFFIXES, read_table


class CsvTask(DeclaredSchemaTask):
    """A user's own table; site files keep its format (``.csv`` or ``.parquet``)."""

    name = "csv"

    def __init__(self, cfg: TaskConfig) -> None:
        super().__init__(cfg)
        if cfg.path is None:
            raise ConfigError("task.path: missing; give the CSV or Parquet file, task.path=...")
        self.path = Path(cfg.path)
        if self.path.suffix.lower() not in TABLE_SUFFIXES:
            raise ConfigError(
                f"task.path={cfg.path}: unsupported file type; use one of {list(TABLE_SUFFIXES)}"
            )

    @property
    def source_name(self) -> str:
        return f"task.path={self.path}"

    @property
    def data_suffix(self) -> str:
        return self.path.suffix.lower()

    def source_table(self) -> pd.DataFrame:
        """The user's whole file, as read (the declared schema is checked on encoding)."""
        return read_table(self.path)
