"""MST's domain compression: the cells of a column whose noisy count is small are merged.

Merging uses only the noisy 1-way counts (already released), so it costs no budget. It
shrinks the pair marginals MST measures next, which is where most of its accuracy on
sparse columns comes from. Sampling undoes it: a merged cell becomes one of its original
cells, uniformly at random.
"""

from __future__ import annotations

import numpy as np

from privacy.noise import NoiseSource


def merge_rare(noisy: np.ndarray, threshold: float) -> np.ndarray:
    """Mapping from original to compressed cells: cells whose noisy count reaches
    ``threshold`` keep a cell each (in order), all others share one last cell."""
    keep = noisy >= threshold
    if np.count_nonzero(~keep) <= 1:
        return np.arange(len(noisy))
    mapping = np.full(len(noisy), np.count_nonzero(keep))
    mapping[keep] = np.arange(np.count_nonzero(keep))
    return mapping


def compress_measurement(noisy: np.ndarray, mapping: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The noisy 1-way counts over the compressed cells, as ``(values, weights)``.

    A cell merging m original cells is measured as (sum of their noisy counts) / √m with
    query weight 1/√m: its noise keeps the standard deviation σ of the other cells.
    """
    weights = 1 / np.sqrt(np.bincount(mapping))
    return np.bincount(mapping, weights=noisy) * weights, weights


def expand(codes: np.ndarray, mapping: np.ndarray, noise: NoiseSource) -> np.ndarray:
    """Original cells for compressed ``codes``: uniform among each one's merged cells."""
    order = np.argsort(mapping, kind="stable")
    sizes = np.bincount(mapping)
    starts = np.cumsum(sizes) - sizes
    uniform = noise.rand(len(codes)).numpy()
    return order[starts[codes] + np.floor(uniform * sizes[codes]).astype(np.int64)]
