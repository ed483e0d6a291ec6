"""DP-SGD for one round of local training at a site, around Opacus' PrivacyEngine.

The engine is rebuilt every round and its own accountant is ignored: the site's ledger
charges each round (``DpSgdEvent`` with ``sample_rate`` and ``steps_per_epoch`` below).
"""

import hashlib
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
from opacus import PrivacyEngine
from opacus.data_loader import DPDataLoader
from opacus.optimizers.optimizer import _check_processed_flag, _mark_as_processed
from opacus.utils.uniform_sampler import UniformWithReplacementSampler
from torch import nn
from torch.utils.data import DataLoader, Dataset

from conf.errors import ConfigError
from privacy.noise import NoiseSource

GRAD_SAMPLE_MODES = ("hooks", "ew", "functorch", "ghost")


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


class SourcePoissonSampler(UniformWithReplacementSampler):
    """Opacus' Poisson sampler (each row in a batch with probability q, ``steps``
    batches) drawing its uniforms from ``source``."""

    source: NoiseSource

    def __iter__(self) -> Iterator[list[int]]:
        for _ in range(self.steps):
            mask = self.source.rand(self.num_samples) < self.sample_rate
            yield mask.nonzero(as_tuple=False).reshape(-1).tolist()


class SourceNoiseMixin:
    """A DP optimizer's ``add_noise`` (Opacus' DPOptimizer and its ghost-clipping kin)
    drawing N(0, (σ·C)²) per coordinate from ``noise_source``, all parameters at once."""

    noise_source: NoiseSource

    def add_noise(self) -> None:
        multiplier = getattr(self, "_adjusted_noise_multiplier", self.noise_multiplier)
        params = list(self.params)
        for p in params:
            _check_processed_flag(p.summed_grad)
        sizes = [p.summed_grad.numel() for p in params]
        draws = self.noise_source.normal((sum(sizes),), multiplier * self.max_grad_norm)
        for p, noise in zip(params, torch.split(draws, sizes), strict=True):  # one draw
            summed = p.summed_grad
            noise = noise.reshape(summed.shape).to(device=summed.device, dtype=summed.dtype)
            p.grad = (summed + noise).view_as(p)
            _mark_as_processed(summed)


_NOISE_CLASSES: dict[type, type] = {}


def _draw_noise_from(optimizer: Any, source: NoiseSource) -> None:
    """Make the optimizer Opacus built draw its noise from ``source``."""
    base = type(optimizer)
    if base not in _NOISE_CLASSES:
        _NOISE_CLASSES[base] = type(f"Source{base.__name__}", (SourceNoiseMixin, base), {})
    optimizer.__class__ = _NOISE_CLASSES[base]
    optimizer.noise_source = source


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
    noise: NoiseSource,
) -> PrivateTraining:
    """Wrap model, optimizer and data for DP-SGD with Poisson sampling at batch_size/rows.

    Sampling and noise both draw from ``noise`` (``privacy.noise``: the ChaCha20 CSPRNG,
    or the seeded debug source), never from torch's global RNG: the Poisson sampler and
    the optimizer's noise draw are Opacus' own with their draw replaced
    (:class:`SourcePoissonSampler`, :class:`SourceNoiseMixin`). Opacus' ``secure_mode``
    would need ``torchcsprng``, whose last release (0.2.1, 2021) has no build for Python
    3.11 / torch 2.13. We build the ``DPDataLoader`` ourselves and pass
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
    # the generator seeds only DataLoader's worker base seed (our sampler draws from noise)
    loader = DPDataLoader(dataset, sample_rate=sample_rate(len(dataset), batch_size),
                          generator=torch.Generator())
    loader.batch_sampler.__class__ = SourcePoissonSampler
    loader.batch_sampler.source = noise
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
        grad_sample_mode=grad_sample_mode,
        criterion=criterion,
    )
    if grad_sample_mode == "ghost":
        private_model, private_optimizer, criterion, private_loader = private
    else:
        private_model, private_optimizer, private_loader = private
    private_optimizer.expected_batch_size = batch_size
    _draw_noise_from(private_optimizer, noise)
    private_model.forbid_grad_accumulation()
    return PrivateTraining(private_model, private_optimizer, criterion, private_loader,
                           ClippingMeter(private_optimizer, max_grad_norm))
