"""The black-box loss attack: a canary the model was trained on has a low loss on its
(wrong) canary label; one it never saw has a high loss, because the model predicts the
row's true class."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

ATTACK = "loss"
ATTACK_DESCRIPTION = ("black-box loss attack: mislabeled input-space canaries scored by the "
                      "final model's cross-entropy on the canary label (lower loss => guess "
                      "included)")


@torch.no_grad()
def loss_scores(model: nn.Module, inputs: Tensor, labels: Tensor,
                batch_size: int = 512) -> np.ndarray:
    """Membership score of each canary: minus its cross-entropy loss (higher => guess
    "included"). Uses only the model's outputs (black box)."""
    model.eval()
    losses = [nn.functional.cross_entropy(model(inputs[i:i + batch_size]),
                                          labels[i:i + batch_size], reduction="none")
              for i in range(0, len(labels), batch_size)]
    return -torch.cat(losses).double().numpy()
