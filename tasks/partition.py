"""Split a pooled table across simulated sites, and split off held-out test rows.

Partitioning is experiment randomness, not a secret: it is seeded from the config so
that a run can be repeated (numpy ``Generator``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from conf.schema import PartitionConfig
from tasks.errors import DataError

Partitioner = Callable[[np.ndarray, int, PartitionConfig, np.random.Generator], list[np.ndarray]]

DIRICHLET_TRIES = 100
"""How many Dirichlet draws may be rejected for leaving a site under ``min_site_rows``."""


def _rows_by_class(labels: np.ndarray | pd.Series) -> list[np.ndarray]:
    """Row indices of each distinct label value (missing values form a class too)."""
    codes = pd.factorize(labels, use_na_sentinel=False)[0]
    return [np.flatnonzero(codes == c) for c in range(codes.max(initial=-1) + 1)]


def _iid(
    labels: np.ndarray, sites: int, cfg: PartitionConfig, rng: np.random.Generator
) -> list[np.ndarray]:
    """Shuffled rows cut into ``sites`` near-equal parts."""
    return list(np.array_split(rng.permutation(len(labels)), sites))


def _dirichlet(
    labels: np.ndarray, sites: int, cfg: PartitionConfig, rng: np.random.Generator
) -> list[np.ndarray]:
    """Label skew: each class is spread over the sites in proportions ~ Dir(alpha)."""
    by_class = _rows_by_class(labels)
    for _ in range(DIRICHLET_TRIES):
        parts: list[list[np.ndarray]] = [[] for _ in range(sites)]
        for rows in by_class:
            shares = rng.dirichlet(np.full(sites, cfg.alpha))
            cuts = (np.cumsum(shares)[:-1] * len(rows)).astype(int)
            for site, chunk in enumerate(np.split(rng.permutation(rows), cuts)):
                parts[site].append(chunk)
        result = [np.concatenate(chunks) for chunks in parts]
        if min(len(rows) for rows in result) >= cfg.min_site_rows:
            return result
    raise DataError(
        f"Dirichlet partition (alpha={cfg.alpha:g}) of {len(labels)} rows left a site under "
        f"{cfg.min_site_rows} rows in {DIRICHLET_TRIES} draws; raise partition.alpha or "
        "lower sites or partition.min_site_rows"
    )


PARTITIONERS: dict[str, Partitioner] = {"iid": _iid, "dirichlet": _dirichlet}


def partition(
    labels: np.ndarray, sites: int, cfg: PartitionConfig, seed: int
) -> list[np.ndarray]:
    """Row indices (sorted) for each of ``sites`` sites: disjoint, covering every row,
    each site with at least ``cfg.min_site_rows`` rows; the same for the same seed."""
    labels = np.asarray(labels)
    if len(labels) < sites * cfg.min_site_rows:
        raise DataError(
            f"the pooled table has {len(labels)} rows, too few for {sites} sites of at least "
            f"{cfg.min_site_rows} rows; lower sites or partition.min_site_rows"
        )
    rng = np.random.default_rng(seed)
    return [np.sort(rows) for rows in PARTITIONERS[cfg.name](labels, sites, cfg, rng)]


def holdout_split(
    df: pd.DataFrame, label_column: str, fraction: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split ``df`` into (rest, holdout), about ``fraction`` of each label's rows held out.

    The holdout is the server's test set. A class too small to give a row keeps all of
    them in ``rest``. Both parts keep the original row order and get a fresh index.
    """
    if label_column not in df.columns:
        raise DataError(f"label column {label_column!r} is not in the table {list(df.columns)}")
    rng = np.random.default_rng(seed)
    held = [
        rng.permutation(rows)[: round(fraction * len(rows))]
        for rows in _rows_by_class(df[label_column])
    ]
    is_held = np.zeros(len(df), dtype=bool)
    is_held[np.concatenate(held)] = True
    if is_held.all() or not is_held.any():
        raise DataError(
            f"holding out {fraction:g} of {len(df)} rows leaves one side empty; "
            "use a larger table or a server test fraction further from 0 and 1"
        )
    return df[~is_held].reset_index(drop=True), df[is_held].reset_index(drop=True)


def local_split(n_rows: int, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted (train, test) row indices of a site's table, about ``test_fraction`` in test
    and at least one row in each."""
    if n_rows < 2:
        raise DataError(
            f"the site's table has {n_rows} row(s); at least 2 are needed to split off a "
            "local test set (task.test_fraction); give the site more data"
        )
    n_test = min(max(1, round(test_fraction * n_rows)), n_rows - 1)
    order = np.random.default_rng(seed).permutation(n_rows)
    return np.sort(order[n_test:]), np.sort(order[:n_test])
