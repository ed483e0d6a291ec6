"""A site's training facts as extra exact coordinates of its masked vector.

Under secure aggregation a site's training loss, rows drawn and clipped per-sample
gradients must not reach the coordinator one by one. Each site appends them to its
masked input as non-negative integers (``encode``); the coordinator unmasks only their
sums over the surviving sites (``decode``). Each value is capped at
``(modulus - 1) // cohort`` so that no sum of ``cohort`` inputs wraps around the modulus;
a capped value makes its sum a lower bound. The loss travels in fixed point
(``LOSS_SCALE``), clamped to ``[0, LOSS_CAP]``; a site whose loss is not finite (every
batch empty) contributes no loss and is not counted in ``loss_sites``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

FIELDS = ("loss_sites", "train_loss", "examples", "dp_sites", "clipped")
"""The coordinates appended, in order."""
LOSS_SCALE = 10**6
LOSS_CAP = 10**3


def encode(loss: float, samples: int, clipped: int | None, modulus: int, cohort: int
           ) -> list[int]:
    """The site's coordinates: [1 if the loss is finite, loss in fixed point, rows drawn,
    1 if it trained with DP-SGD, clipped per-sample gradients (None: no DP-SGD)]."""
    cap = (modulus - 1) // max(cohort, 1)
    finite = math.isfinite(loss)
    fixed = round(min(max(loss, 0.0), LOSS_CAP) * LOSS_SCALE) if finite else 0
    values = (finite, fixed, samples, clipped is not None, clipped or 0)
    return [min(int(v), cap) for v in values]


def decode(sums: Sequence[int], sites: int) -> dict[str, float | int | None]:
    """The round's secure sums over ``sites`` surviving sites: the unweighted mean of the
    sites' training losses, the rows drawn (``examples``) and per-sample gradients
    clipped (``clipped``, None when no site ran DP-SGD) over all sites, and the fraction
    clipped."""
    values = dict(zip(FIELDS, (int(v) for v in sums), strict=True))
    loss_sites, examples = values["loss_sites"], values["examples"]
    clipped = values["clipped"] if values["dp_sites"] else None
    return {
        "sites": sites,
        "mean_train_loss": values["train_loss"] / LOSS_SCALE / loss_sites if loss_sites
        else None,
        "examples": examples,
        "clipped": clipped,
        "clipped_fraction": clipped / examples if clipped is not None and examples else None,
    }


def as_metrics(decoded: Mapping[str, float | int | None]) -> dict[str, float | int]:
    """The decoded sums as a reply's metrics (``secure-sum.<name>``; None left out)."""
    return {f"secure-sum.{k}": v for k, v in decoded.items() if v is not None}


def from_metrics(metrics: Mapping[str, float | int]) -> dict[str, float | int] | None:
    """The secure sums carried in a reply's metrics, or None when there are none."""
    sums = {k.removeprefix("secure-sum."): v for k, v in metrics.items()
            if k.startswith("secure-sum.")}
    return sums or None
