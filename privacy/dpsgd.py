"""DP-SGD for one round of local training at a site, around Opacus' PrivacyEngine.

The engine is rebuilt every round and its own accountant is ignored: the site's ledger
charges each round (``DpSgdEvent`` with ``sample_rate`` and ``steps_per_epoch`` below).
"""

import hashlib
import os
import warnings
from dataclasses import dataclass
from typing import Any

import torch
from opacus import PrivacyEngine
from opacus.data_loader import DPDataLoader
from torch import nn
from torch.utils.data import DataLoader, Dataset

from conf.errors import ConfigError

GRAD_SAMPLE_MODES = ("hooks", "ew", "functorch", "ghost")


def noise_generator(seed: int | None) -> torch.Generator:
    """The generator for a round's Poisson sampling and DP noise.

    Seeded with 64 bits from ``os.urandom`` (OS entropy) unless a debug ``seed`` is given
    (``reproducible=true``: the caller must mark such a run as not private). torch's CPU
    generator (Mersenne Twister) is not a CSPRNG; its seed comes from OS entropy, lives
    for one round and never leaves the site. Opacus' ``secure_mode`` would use
    ``torchcsprng`` instead (plus noise hardened against floating-point attacks), but
    torchcsprng's last release, 0.2.1 (2021), was built for torch 1.8 and Python <= 3.9:
    pip finds no distribution of it for Python 3.11 / torch 2.13, and
    ``PrivacyEngine(secure_mode=True)`` raises ImportError without it.
    """
    generator = torch.Generator()
    generator.manual_seed(int.from_bytes(os.urandom(8), "little") if seed is None else seed)
    return generator


def debug_seed(*parts: object) -> int:
    """A 63-bit seed derived from ``parts`` (the config seed first), for ``reproducible=true``
    debug runs only: anyone with the config can regenerate noise drawn from it."""
    digest = hashlib.sha256("/".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def sample_rate(rows: int, batch_size: int) -> float:
    """Poisson sampling rate q = batch_size / rows (the expected batch is ``batch_size``)."""
    if rows < 1:
        raise ConfigError("the site has no training rows; give it data or leave it out")
    if not 1 <= batch_size <= rows:
        raise ConfigError(
            f"task.batch_size={batch_size} must be between 1 and the site's {rows} training "
            "rows; lower task.batch_size"
        )
    return batch_size / rows


def steps_per_epoch(rows: int, batch_size: int) -> int:
    """Batches per epoch of ``DPDataLoader`` at ``sample_rate(rows, batch_size)``.

    Opacus 1.6's ``UniformWithReplacementSampler`` yields ``int(1 / sample_rate)`` batches.
    """
    return int(1 / sample_rate(rows, batch_size))


@dataclass
class ClippingMeter:
    """Counts the per-sample gradients DP-SGD clipped, as Opacus decides it: a sample is
    clipped when its gradient's L2 norm (over all parameters) + 1e-6 exceeds
    ``max_grad_norm`` (its clip factor is then below 1).

    Call :meth:`after_step` after each ``optimizer.step()``, before the next
    ``zero_grad``: it reads the step's per-sample gradients from the ``DPOptimizer``
    (hooks, ew, functorch) or the per-sample norms ghost clipping computed.
    """

    optimizer: Any
    max_grad_norm: float
    clipped: int = 0

    @torch.no_grad()
    def after_step(self, model: nn.Module) -> None:
        norms = self._norms(model)
        if norms is None or norms.numel() == 0:
            return
        self.clipped += int((norms + 1e-6 > self.max_grad_norm).sum())

    def _norms(self, model: nn.Module) -> torch.Tensor | None:
        if hasattr(model, "per_sample_gradient_norms"):  # ghost clipping
            return model.per_sample_gradient_norms
        grads = self.optimizer.grad_samples
        if not grads or len(grads[0]) == 0:
            return None
        per_param = [g.reshape(len(g), -1).norm(2, dim=-1) for g in grads]
        return torch.stack(per_param, dim=1).norm(2, dim=1)


@dataclass
class PrivateTraining:
    """What one private round trains with: use ``criterion`` for the loss in every mode;
    ``meter.after_step`` counts the clipped per-sample gradients."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    criterion: Any
    loader: DataLoader
    meter: ClippingMeter

    def close(self) -> nn.Module:
        """Remove Opacus' hooks and attributes; returns the plain model (reusable next round)."""
        return self.model.to_standard_module()


def make_private(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    dataset: Dataset,
    *,
    batch_size: int,
    noise_multiplier: float,
    max_grad_norm: float,
    grad_sample_mode: str,
    generator: torch.Generator,
) -> PrivateTraining:
    """Wrap model, optimizer and data for DP-SGD with Poisson sampling at batch_size/rows.

    Sampling and noise both draw from ``generator`` (never from torch's global RNG, which
    may be seeded from the config). We build the ``DPDataLoader`` ourselves and pass
    ``poisson_sampling=False``; Opacus then infers the expected batch size as
    ``int(rows / len(loader))`` = ``int(rows / int(rows / batch_size))`` (e.g. 33, not 30,
    for 100 rows and batch 30), so we set the optimizer's ``expected_batch_size`` to
    ``batch_size``: the sum of clipped, noised gradients is divided by it. As Opacus does
    with Poisson sampling, gradient accumulation across batches is forbidden.
    """
    if grad_sample_mode not in GRAD_SAMPLE_MODES:
        allowed = ", ".join(GRAD_SAMPLE_MODES)
        raise ConfigError(f"unknown grad_sample_mode {grad_sample_mode!r}; allowed: {allowed}")
    if noise_multiplier < 0 or max_grad_norm <= 0:
        raise ConfigError(
            f"need noise_multiplier >= 0 and max_grad_norm > 0, got {noise_multiplier} "
            f"and {max_grad_norm}"
        )
    loader = DPDataLoader(
        dataset, sample_rate=sample_rate(len(dataset), batch_size), generator=generator
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Secure RNG turned off")
        engine = PrivacyEngine()
    criterion = nn.CrossEntropyLoss()
    private = engine.make_private(
        module=model,
        optimizer=optimizer,
        data_loader=loader,
        noise_multiplier=noise_multiplier,
        max_grad_norm=max_grad_norm,
        poisson_sampling=False,
        noise_generator=generator,
        grad_sample_mode=grad_sample_mode,
        criterion=criterion,
    )
    if grad_sample_mode == "ghost":
        private_model, private_optimizer, criterion, private_loader = private
    else:
        private_model, private_optimizer, private_loader = private
    private_optimizer.expected_batch_size = batch_size
    private_model.forbid_grad_accumulation()
    return PrivateTraining(private_model, private_optimizer, criterion, private_loader,
                           ClippingMeter(private_optimizer, max_grad_norm))
