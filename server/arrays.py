"""Apply a flat float64 update to a Flower ArrayRecord."""

from __future__ import annotations

import numpy as np
from flwr.app import Array, ArrayRecord


def add_update(arrays: ArrayRecord, update: np.ndarray) -> ArrayRecord:
    """``arrays`` plus a flat update, as a new ArrayRecord with the same keys and dtypes."""
    out, offset = {}, 0
    for key, array in arrays.items():
        values = array.numpy()
        step = update[offset:offset + values.size].reshape(values.shape)
        out[key] = Array((values.astype(np.float64) + step).astype(values.dtype))
        offset += values.size
    if offset != update.size:
        raise ValueError(f"an update of {update.size} values does not fit a model of {offset}")
    return ArrayRecord(out)
