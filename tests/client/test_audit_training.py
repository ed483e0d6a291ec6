"""The audit's training data: the site's training rows followed by the canary rows."""

from __future__ import annotations

import torch
from torch.utils.data import Subset, TensorDataset

from client.audit_training import with_rows


def test_with_rows_appends_the_canaries_to_the_sites_training_rows() -> None:
    site = TensorDataset(torch.arange(10.0).unsqueeze(1), torch.arange(10) % 3)
    train = Subset(site, [1, 4, 7])
    canaries = TensorDataset(torch.tensor([[100.0], [101.0]]), torch.tensor([2, 0]))
    joined = with_rows(train, canaries)
    assert len(joined) == 5
    rows = [joined[i] for i in range(5)]
    assert [float(x) for x, _ in rows] == [1.0, 4.0, 7.0, 100.0, 101.0]
    assert [int(y) for _, y in rows] == [1, 1, 1, 2, 0]
