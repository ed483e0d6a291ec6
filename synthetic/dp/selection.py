"""Which pairs MST measures: a spanning tree of the columns, edge by edge with the
exponential mechanism, favouring pairs that the 1-way model gets most wrong."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np

from privacy.noise import NoiseSource
from synthetic.dp.mechanisms import exponential

Pair = tuple[str, str]


def pair_counts(
    codes: Mapping[str, np.ndarray], sizes: Mapping[str, int], pair: Pair
) -> np.ndarray:
    """The (sizes[a], sizes[b]) table of counts of the pair ``(a, b)``."""
    shape = (sizes[pair[0]], sizes[pair[1]])
    cells = np.ravel_multi_index((codes[pair[0]], codes[pair[1]]), shape)
    return np.bincount(cells, minlength=shape[0] * shape[1]).reshape(shape)


def pair_errors(
    codes: Mapping[str, np.ndarray], sizes: Mapping[str, int], one_way: Mapping[str, np.ndarray]
) -> dict[Pair, float]:
    """For every pair of columns: the L1 distance between its true counts and the product
    of the estimated 1-way counts ``one_way`` (all summing to the same total).

    Adding or removing one record moves one true count by 1, so each error has
    sensitivity 1; ``one_way`` was estimated from noisy counts only.
    """
    errors = {}
    for a, b in itertools.combinations(codes, 2):
        independent = np.outer(one_way[a], one_way[b]) / one_way[a].sum()
        errors[(a, b)] = float(np.abs(pair_counts(codes, sizes, (a, b)) - independent).sum())
    return errors


def spanning_tree(
    errors: Mapping[Pair, float],
    columns: Sequence[str],
    epsilon: float,
    noise: NoiseSource,
) -> list[Pair]:
    """``len(columns) - 1`` pairs forming a spanning tree, as in Kruskal's algorithm but
    with each edge chosen by the exponential mechanism (ε-DP each, ε²/8-zCDP) among the
    pairs that join two different components, scored by their ``errors``."""
    component = {column: i for i, column in enumerate(columns)}
    tree: list[Pair] = []
    for _ in range(len(columns) - 1):
        candidates = [(a, b) for a, b in errors if component[a] != component[b]]
        a, b = candidates[
            exponential([errors[pair] for pair in candidates], epsilon, 1.0, noise)
        ]
        tree.append((a, b))
        joined, into = component[b], component[a]
        component = {c: into if k == joined else k for c, k in component.items()}
    return tree
