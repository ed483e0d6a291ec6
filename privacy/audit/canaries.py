"""Input-space canaries: real rows from outside the audited site, given a wrong label, each
included in the site's training data with probability 1/2.

A mislabeled row is what the model can fit only by memorising that one row, so whether
it was trained on shows in its loss on the wrong label (``scoring``). The rows, the wrong
labels and the inclusion coins are the auditor's own experiment randomness, drawn from a
numpy generator seeded with ``audit.seed`` so that an audit can be repeated exactly: an
audit is a test of the training code, not a private release, and nothing secret is drawn
here (the DP noise of the audited training comes from ``privacy.dpsgd`` as in a run).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import TensorDataset


@dataclass(frozen=True)
class Canaries:
    """m canaries: inputs, their (wrong) canary labels, the rows' true labels, where in the
    pool each came from, and which were included in training."""

    inputs: Tensor
    labels: Tensor
    true_labels: Tensor
    pool_rows: np.ndarray
    included: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def training_rows(self) -> TensorDataset:
        """The included canaries, as rows to add to the training data."""
        mask = torch.from_numpy(self.included)
        return TensorDataset(self.inputs[mask], self.labels[mask])


def draw_canaries(pool: TensorDataset, classes: int, count: int, seed: int) -> Canaries:
    """``count`` rows of ``pool`` (without replacement), each relabelled uniformly to one
    of the other ``classes`` - 1 classes, each included with probability 1/2."""
    if classes < 2:
        raise ValueError(f"mislabeled canaries need at least 2 classes, got {classes}")
    inputs, labels = pool.tensors
    if not 1 <= count <= len(labels):
        raise ValueError(f"cannot draw {count} canaries from a pool of {len(labels)} rows")
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(labels), size=count, replace=False))
    true = labels[torch.from_numpy(rows)]
    shift = torch.from_numpy(rng.integers(1, classes, size=count))
    included = rng.random(count) < 0.5
    return Canaries(inputs[torch.from_numpy(rows)], (true + shift) % classes, true, rows,
                    included)
