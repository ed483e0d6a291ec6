"""Rows drawn from a tree-shaped model, with the caller's noise source only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from privacy.noise import NoiseSource
from synthetic.dp.estimation import Clique
from synthetic.dp.selection import Pair


def sample_tree(
    marginals: Mapping[Clique, np.ndarray],
    columns: Sequence[str],
    tree: Sequence[Pair],
    rows: int,
    noise: NoiseSource,
) -> dict[str, np.ndarray]:
    """``rows`` i.i.d. rows of cell indices from the model with ``marginals`` (on every
    column and every pair of ``tree``): each tree's first column from its 1-way marginal,
    then every other column given its parent, walking the tree outwards."""
    neighbours: dict[str, list[str]] = {column: [] for column in columns}
    for a, b in tree:
        neighbours[a].append(b)
        neighbours[b].append(a)
    codes: dict[str, np.ndarray] = {}
    for root in columns:
        if root in codes:
            continue
        codes[root] = _draw(marginals[(root,)], rows, noise)
        pending = [root]
        while pending:
            parent = pending.pop()
            for child in neighbours[parent]:
                if child not in codes:
                    joint = _joint(marginals, parent, child)
                    codes[child] = _draw_given(joint, codes[parent], noise)
                    pending.append(child)
    return codes


def _joint(marginals: Mapping[Clique, np.ndarray], parent: str, child: str) -> np.ndarray:
    if (parent, child) in marginals:
        return marginals[(parent, child)]
    return marginals[(child, parent)].T


def _draw_given(joint: np.ndarray, parents: np.ndarray, noise: NoiseSource) -> np.ndarray:
    """One child cell per entry of ``parents``, from row ``parent`` of ``joint``."""
    children = np.empty(len(parents), dtype=np.int64)
    for cell in np.unique(parents):
        where = parents == cell
        children[where] = _draw(joint[cell], int(np.count_nonzero(where)), noise)
    return children


def _draw(weights: np.ndarray, count: int, noise: NoiseSource) -> np.ndarray:
    """``count`` cells drawn with replacement, with probability ∝ ``weights`` (clipped at 0;
    uniform if none is positive)."""
    positive = np.clip(np.asarray(weights, dtype=np.float64), 0, None)
    if not positive.sum() > 0:
        positive = np.ones_like(positive)
    cumulative = np.cumsum(positive)
    drawn = np.searchsorted(cumulative, noise.rand(count).numpy() * cumulative[-1],
                            side="right")  # inverse CDF: cell i with probability ∝ weight i
    return np.minimum(drawn, len(positive) - 1).astype(np.int64)
