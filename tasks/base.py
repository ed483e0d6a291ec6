"""What every task offers: a model, a pooled source table and a declared table schema."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from typing import ClassVar

import pandas as pd
from torch import nn
from torch.utils.data import TensorDataset

from conf.schema import FeatureSpec, LabelSpec, TaskConfig
from tasks.encoding import encode_table
from tasks.io import read_table


class Task(ABC):
    """A learning task: its data is a table with declared feature and label columns.

    The simulation launcher partitions :meth:`source_table` into one file per site
    (suffix :attr:`data_suffix`); each site turns its own table into tensors with
    :meth:`to_dataset` and trains :meth:`build_model`.
    """

    name: ClassVar[str]
    features: tuple[FeatureSpec, ...]
    label: LabelSpec

    def __init__(self, cfg: TaskConfig) -> None:
        self.cfg = cfg

    @abstractmethod
    def build_model(self) -> nn.Module:
        """A freshly initialised model (from torch's global RNG, seeded by the caller)."""

    @abstractmethod
    def source_table(self) -> pd.DataFrame:
        """The pooled table a simulation partitions across sites."""

    @property
    def label_column(self) -> str:
        """Name of the label column in the task's tables."""
        return self.label.name

    @property
    def source_name(self) -> str:
        """How errors name :meth:`source_table` (a user's file: its path)."""
        return f"the {self.name} task's table"

    @property
    def data_suffix(self) -> str:
        """Suffix of the per-site data files."""
        return ".parquet"

    def to_dataset(self, df: pd.DataFrame, source: str = "table") -> TensorDataset:
        """Encode ``df`` with the declared schema; ``source`` names it in error messages."""
        return TensorDataset(*encode_table(df, self.features, self.label, source))

    def read_dataset(self, path: str | os.PathLike[str]) -> TensorDataset:
        """Read a site's CSV/Parquet file and encode it; errors name the file."""
        return self.to_dataset(read_table(path), source=str(path))
