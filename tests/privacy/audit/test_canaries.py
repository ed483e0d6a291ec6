"""Canaries: mislabeled rows from a pool, each included with probability 1/2, seeded."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import TensorDataset

from privacy.audit.canaries import draw_canaries
from privacy.audit.scoring import loss_scores


def pool(rows: int = 500, classes: int = 10) -> TensorDataset:
    x = torch.arange(rows, dtype=torch.float32).unsqueeze(1)
    return TensorDataset(x, torch.arange(rows) % classes)


def test_canaries_are_mislabeled_rows_of_the_pool_half_included() -> None:
    canaries = draw_canaries(pool(), classes=10, count=400, seed=3)
    assert len(canaries) == 400 and len(set(canaries.pool_rows.tolist())) == 400
    assert torch.equal(canaries.inputs[:, 0].long(), torch.from_numpy(canaries.pool_rows))
    assert torch.equal(canaries.true_labels, torch.from_numpy(canaries.pool_rows) % 10)
    assert bool((canaries.labels != canaries.true_labels).all())
    assert set(canaries.labels.tolist()) == set(range(10))  # every wrong class occurs
    assert 160 < canaries.included.sum() < 240  # Binomial(400, 1/2): 200 +- 4 sd
    rows = canaries.training_rows()
    assert len(rows) == canaries.included.sum()
    assert torch.equal(rows.tensors[1], canaries.labels[torch.from_numpy(canaries.included)])


def test_same_seed_same_canaries_other_seed_other_coins() -> None:
    first, again = (draw_canaries(pool(), 10, 100, seed=1) for _ in range(2))
    assert np.array_equal(first.included, again.included)
    assert torch.equal(first.labels, again.labels)
    assert not np.array_equal(first.included, draw_canaries(pool(), 10, 100, seed=2).included)


def test_binary_labels_are_flipped() -> None:
    canaries = draw_canaries(pool(classes=2), classes=2, count=50, seed=0)
    assert torch.equal(canaries.labels, 1 - canaries.true_labels)


def test_too_many_canaries_or_one_class_is_refused() -> None:
    with pytest.raises(ValueError, match="pool of 500 rows"):
        draw_canaries(pool(), 10, 501, seed=0)
    with pytest.raises(ValueError, match="at least 2 classes"):
        draw_canaries(pool(), 1, 10, seed=0)


def test_loss_scores_are_minus_the_cross_entropy_on_the_canary_label() -> None:
    model = torch.nn.Linear(1, 3)
    x, y = torch.randn(7, 1), torch.tensor([0, 1, 2, 0, 1, 2, 0])
    expected = -torch.nn.functional.cross_entropy(model(x), y, reduction="none")
    assert np.allclose(loss_scores(model, x, y, batch_size=3), expected.detach().numpy())
