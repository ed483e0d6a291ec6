"""A site's own data: its file, encoded as the task declares, split train/test."""

from __future__ import annotations

from dataclasses import dataclass

from torch.utils.data import Subset, TensorDataset

from conf.schema import ExperimentConfig
from conf.site import SiteSettings
from tasks.partition import local_split
from tasks.registry import get_task


@dataclass(frozen=True)
class LocalData:
    """The site's training rows and its local test split."""

    train: Subset
    test: Subset


def load_local_data(cfg: ExperimentConfig, settings: SiteSettings) -> LocalData:
    """Read and encode the site's file; split off its local test set (seeded)."""
    dataset: TensorDataset = get_task(cfg.task).read_dataset(settings.data_path)
    train_idx, test_idx = local_split(len(dataset), cfg.task.test_fraction, cfg.seed)
    return LocalData(Subset(dataset, list(train_idx)), Subset(dataset, list(test_idx)))
