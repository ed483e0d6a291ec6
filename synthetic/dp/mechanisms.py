"""The two noise mechanisms of MST, drawing only from the caller's torch generator.

The generator comes from ``privacy.dpsgd.noise_generator``: seeded from OS entropy (or
from a debug seed, in which case the release is NOT private); see its docstring for why
torch's generator and not torchcsprng. As with Opacus outside its ``secure_mode``, the
noise is ordinary floating-point sampling, not hardened against attacks on its low-order
bits. No global random state (``random``, global
``numpy.random``, torch's default generator) is ever used.
"""

from __future__ import annotations

import numpy as np
import torch


def gaussian(counts: np.ndarray, sigma: float, generator: torch.Generator) -> np.ndarray:
    """``counts`` plus independent N(0, sigma²) noise on every cell (float64)."""
    noise = torch.normal(0.0, sigma, size=counts.shape, generator=generator, dtype=torch.float64)
    return counts + noise.numpy()


def exponential(
    scores: np.ndarray, epsilon: float, sensitivity: float, generator: torch.Generator
) -> int:
    """Index chosen with probability ∝ exp(ε·score / (2·sensitivity)): ε-DP, and ε²/8-zCDP.

    Sampled exactly by the Gumbel-max trick: the argmax of the scaled scores plus
    independent standard Gumbel noise, drawn as -log(E) with E ~ Exponential(1).
    """
    exponentials = torch.empty(len(scores), dtype=torch.float64).exponential_(generator=generator)
    noisy = epsilon * np.asarray(scores) / (2 * sensitivity) - np.log(exponentials.numpy())
    return int(np.argmax(noisy))
