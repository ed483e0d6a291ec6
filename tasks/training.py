"""Local training and evaluation loops shared by sites (train) and the server (evaluate)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset

AfterStep = Callable[[nn.Module], None]


@dataclass(frozen=True)
class TrainStats:
    """What one call of :func:`train_epochs` did.

    ``loss`` is the mean training loss over the non-empty batches (NaN if every batch
    was empty), ``examples`` the rows seen, ``batches`` the optimizer steps taken.
    """

    loss: float
    examples: int
    batches: int


@dataclass(frozen=True)
class EvalStats:
    """Mean cross-entropy loss and accuracy of a model on a dataset."""

    loss: float
    accuracy: float
    examples: int


def train_epochs(
    model: nn.Module,
    loader: Iterable[tuple[Tensor, Tensor]],
    optimizer: torch.optim.Optimizer,
    criterion: Callable[[Tensor, Tensor], Tensor],
    epochs: int,
    after_step: AfterStep | None = None,
) -> TrainStats:
    """Train ``model`` for ``epochs`` passes over ``loader``, one optimizer step per batch.

    Works with a plain optimizer and with Opacus' ``DPOptimizer``/``DPDataLoader`` (and
    the wrapped criterion of ghost clipping). Poisson sampling can yield a batch of zero
    rows. Such a batch still goes through forward, backward and ``optimizer.step()``:
    Opacus 1.6 clips the empty per-sample gradients to a zero sum and adds its noise
    (``DPOptimizer.clip_and_accumulate`` treats the empty batch explicitly), and its
    accountant counts that step, as the analysis of Poisson-sampled DP-SGD assumes. So
    the number of steps always equals the number of batches the loader yields. The loss
    of an empty batch is undefined (NaN) and is left out of the reported mean. Opacus
    1.6's ``ew`` mode cannot run a zero-row batch (RuntimeError), nor can ``functorch``
    through GroupNorm; ``hooks`` and ``ghost`` can.
    ``after_step(model)`` runs after every step (e.g. :func:`proximal_pull`).
    """
    model.train()
    loss_sum, loss_batches, examples, batches = 0.0, 0, 0, 0
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad(set_to_none=True)
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
            if after_step is not None:
                after_step(model)
            batches += 1
            examples += len(y)
            if len(y) > 0:
                loss_sum += loss.item()
                loss_batches += 1
    mean_loss = loss_sum / loss_batches if loss_batches else math.nan
    return TrainStats(loss=mean_loss, examples=examples, batches=batches)


@torch.no_grad()
def evaluate(model: nn.Module, dataset: Dataset, batch_size: int = 256) -> EvalStats:
    """Mean cross-entropy loss and accuracy of ``model`` on every row of ``dataset``."""
    model.eval()
    loss_sum, correct, examples = 0.0, 0, 0
    for x, y in DataLoader(dataset, batch_size=batch_size):
        logits = model(x)
        loss_sum += nn.functional.cross_entropy(logits, y, reduction="sum").item()
        correct += (logits.argmax(dim=1) == y).sum().item()
        examples += len(y)
    if examples == 0:
        return EvalStats(loss=math.nan, accuracy=math.nan, examples=0)
    return EvalStats(loss=loss_sum / examples, accuracy=correct / examples, examples=examples)


def proximal_pull(global_params: Sequence[Tensor], mu: float, lr: float) -> AfterStep:
    """An ``after_step`` hook for FedProx: ``w <- w - lr * mu * (w - w_global)``.

    This is the gradient step of the proximal term ``mu/2 * ||w - w_global||^2`` applied
    after the data step. It reads no data, so under DP-SGD it is post-processing and
    costs no privacy; adding the proximal term to the loss instead would put it through
    Opacus' per-sample clipping and noise, distorting both. ``global_params`` are in the
    order of ``model.parameters()``.
    """
    anchors = [p.detach().clone() for p in global_params]
    rate = lr * mu

    @torch.no_grad()
    def pull(model: nn.Module) -> None:
        params = list(model.parameters())
        if len(params) != len(anchors):
            raise ValueError(f"model has {len(params)} parameters, global has {len(anchors)}")
        for param, anchor in zip(params, anchors, strict=True):
            param.sub_(rate * (param - anchor))

    return pull
