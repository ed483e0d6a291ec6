"""A site's training for the empirical audit: the run's own rounds of (DP-)SGD, on the
site's training rows plus the included canaries.

Each round is :func:`client.local_training.train_round`, the code a site runs in a
federation: the DP plan (σ calibrated for rounds x local steps at the sample rate of the
actual training rows, canaries included), the write-ahead ledger charge, Opacus with
Poisson sampling, clipping and noise. The audit federation has one site, so the global
model of round t + 1 is that site's model after round t (FedAvg over one site): the
attacker sees every update, the strongest position the run's record-level ε covers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from flwr.app import ArrayRecord
from torch import nn
from torch.utils.data import Subset, TensorDataset

from client.local_data import LocalData
from client.local_training import train_round
from conf.protocol import SitePrivacyReport
from conf.schema import ExperimentConfig
from conf.site import SiteSettings
from tasks.registry import get_task


@dataclass
class AuditTraining:
    """Trains like the run; keeps the site's privacy report of the last round."""

    cfg: ExperimentConfig
    settings: SiteSettings
    data: LocalData
    run_id: str
    progress: Callable[[str], None] = print
    privacy: SitePrivacyReport | None = None
    rows: int = 0

    def __call__(self, canary_rows: TensorDataset) -> nn.Module:
        train = with_rows(self.data.train, canary_rows)
        self.rows = len(train)
        data = LocalData(train, self.data.test)
        task = get_task(self.cfg.task)
        torch.manual_seed(self.cfg.seed)  # the initial global model, as the ServerApp does
        model = task.build_model()
        arrays = ArrayRecord(model.state_dict())
        mu = self.cfg.strategy.proximal_mu if self.cfg.strategy.name == "fedprox" else 0.0
        for server_round in range(1, self.cfg.rounds + 1):
            result = train_round(self.cfg, self.settings, data, arrays, self.run_id,
                                 server_round, mu)
            arrays, self.privacy = result.arrays, result.privacy
            self.progress(f"round {server_round}/{self.cfg.rounds} trained on {len(train)} "
                          f"rows (loss {result.stats.loss:.3f})")
        model.load_state_dict(arrays.to_torch_state_dict())
        return model


def with_rows(train: Subset, extra: TensorDataset) -> Subset:
    """The site's training rows followed by ``extra`` rows, as one Subset."""
    indices = torch.as_tensor(list(train.indices), dtype=torch.long)
    tensors = [t[indices] for t in train.dataset.tensors]
    joined = TensorDataset(*(torch.cat([a, b]) for a, b in zip(tensors, extra.tensors,
                                                                   strict=True)))
    return Subset(joined, list(range(len(joined))))
