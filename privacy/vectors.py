"""A model as one flat float64 vector: the form that clipping, masking and noise work on."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def flatten(arrays: Iterable[np.ndarray]) -> np.ndarray:
    """All values of ``arrays``, in order, as one float64 vector."""
    parts = [np.asarray(a, dtype=np.float64).ravel() for a in arrays]
    return np.concatenate(parts) if parts else np.zeros(0)


def clip_l2(vector: np.ndarray, bound: float) -> np.ndarray:
    """``vector`` scaled down (never up) so that its L2 norm is at most ``bound``."""
    if bound <= 0:
        raise ValueError(f"the clipping bound must be > 0, got {bound!r}")
    norm = float(np.linalg.norm(vector))
    return vector * (bound / norm) if norm > bound else vector
