"""The two noise mechanisms of MST, drawing only from the caller's noise source.

The source comes from ``privacy.noise.noise_source``: the ChaCha20 CSPRNG keyed from OS
entropy (or, with a debug seed, torch's generator, in which case the release is NOT
private). As with Opacus outside its ``secure_mode``, the noise is ordinary
floating-point sampling, not hardened against attacks on its low-order bits. No global
random state (``random``, global ``numpy.random``, torch's default generator) is ever
used.
"""

from __future__ import annotations

import numpy as np

from privacy.noise import NoiseSource


def gaussian(counts: np.ndarray, sigma: float, noise: NoiseSource) -> np.ndarray:
    """``counts`` plus independent N(0, sigma²) noise on every cell (float64)."""
    return counts + noise.normal(counts.shape, sigma).numpy()


def exponential(
    scores: np.ndarray, epsilon: float, sensitivity: float, noise: NoiseSource
) -> int:
    """Index chosen with probability ∝ exp(ε·score / (2·sensitivity)): ε-DP, and ε²/8-zCDP.

    Sampled exactly by the Gumbel-max trick: the argmax of the scaled scores plus
    independent standard Gumbel noise, drawn as -log(E) with E ~ Exponential(1).
    """
    exponentials = noise.exponential(len(scores))
    noisy = epsilon * np.asarray(scores) / (2 * sensitivity) - np.log(exponentials.numpy())
    return int(np.argmax(noisy))
