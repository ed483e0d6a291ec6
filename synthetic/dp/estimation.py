"""Graphical-model estimation from noisy marginals, with mbi 2.0 (Private-PGM, Apache-2.0).

mbi runs on jax, which computes in float32 unless 64-bit mode is on; mbi warns about that
when imported. We turn 64-bit mode on only around our own calls (``jax.enable_x64`` as a
context manager), so other jax users in the process are unaffected, and silence that
import warning. mbi's other import warning, about jax's persistent compilation cache,
matters only when a cache directory is configured (privfl configures none).

Only estimation is taken from mbi: its ``MarkovRandomField.synthetic_data`` draws from the
global ``numpy.random`` state, so sampling is ours (``synthetic.dp.sampling``).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import jax
import numpy as np

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "JAX is running in float32 mode", UserWarning)
    warnings.filterwarnings("ignore", "JAX persistent compilation cache", UserWarning)
    import mbi
    from mbi.estimation import MirrorDescent

Clique = tuple[str, ...]


@dataclass(frozen=True, eq=False)
class Measurement:
    """Noisy counts of the marginal on ``clique`` (C order), noise std ``sigma``.

    ``weights``: the measured quantity is ``weights * counts`` (see
    ``synthetic.dp.compression.compress_measurement``); None means all ones.
    """

    clique: Clique
    values: np.ndarray
    sigma: float
    weights: np.ndarray | None = None


def estimate_marginals(
    sizes: Mapping[str, int],
    measurements: Sequence[Measurement],
    total: float,
    wanted: Sequence[Clique],
    iters: int,
) -> dict[Clique, np.ndarray]:
    """Marginals on ``wanted`` (counts summing to ``total``) of the graphical model that
    best fits ``measurements`` in weighted least squares (mirror descent, ``iters`` steps)."""
    with jax.enable_x64(True):
        domain = mbi.Domain(tuple(sizes), tuple(sizes.values()))
        model = MirrorDescent().estimate(
            domain, [_linear(m) for m in measurements], known_total=total, iters=iters
        )
        return {clique: np.asarray(model.project(clique).values) for clique in wanted}


def _linear(measurement: Measurement) -> mbi.LinearMeasurement:
    if measurement.weights is None:
        return mbi.LinearMeasurement(measurement.values, measurement.clique, measurement.sigma)
    return mbi.LinearMeasurement(
        measurement.values,
        measurement.clique,
        measurement.sigma,
        query=mbi.WeightedQuery(measurement.weights),
    )
