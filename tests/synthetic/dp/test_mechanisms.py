"""synthetic.dp.mechanisms, compression and selection: noise, merging and the tree."""

import itertools

import numpy as np
import pytest

from privacy.noise import SeededNoise
from synthetic.dp.compression import compress_measurement, expand, merge_rare
from synthetic.dp.mechanisms import exponential, gaussian
from synthetic.dp.selection import pair_counts, pair_errors, spanning_tree


def generator(seed: int = 0) -> SeededNoise:
    """A seeded source: the tests check distributions, not privacy."""
    return SeededNoise(seed)


def test_gaussian_noise_has_the_requested_spread() -> None:
    noisy = gaussian(np.full(20_000, 5.0), 3.0, generator())
    assert noisy.mean() == pytest.approx(5.0, abs=0.1)
    assert noisy.std() == pytest.approx(3.0, rel=0.03)


def test_exponential_mechanism_follows_its_distribution() -> None:
    """P(i) ∝ exp(ε·score_i / 2): scores (0, 2) at ε = 1 give odds 1 : e."""
    g = generator()
    picks = [exponential(np.array([0.0, 2.0]), 1.0, 1.0, g) for _ in range(4000)]
    assert np.mean(picks) == pytest.approx(np.e / (1 + np.e), abs=0.025)


def test_merge_rare_keeps_supported_cells_and_merges_the_rest() -> None:
    mapping = merge_rare(np.array([50.0, 1.0, 40.0, -3.0, 2.0]), threshold=10.0)
    np.testing.assert_array_equal(mapping, [0, 2, 1, 2, 2])
    np.testing.assert_array_equal(merge_rare(np.array([50.0, 1.0, 40.0]), 10.0), [0, 1, 2])


def test_compressed_measurement_keeps_the_noise_scale() -> None:
    values, weights = compress_measurement(np.array([50.0, 1.0, 40.0, 3.0]), np.array([0, 2, 1, 2]))
    np.testing.assert_allclose(weights, [1, 1, 1 / np.sqrt(2)])
    np.testing.assert_allclose(values, [50, 40, 4 / np.sqrt(2)])


def test_expand_picks_uniformly_among_merged_cells() -> None:
    mapping = np.array([0, 2, 1, 2, 2])
    cells = expand(np.array([0] * 10 + [1] * 10 + [2] * 3000), mapping, generator())
    assert (cells[:10] == 0).all() and (cells[10:20] == 2).all()
    counts = np.bincount(cells[20:], minlength=5)
    assert counts[[0, 2]].sum() == 0 and counts[[1, 3, 4]] == pytest.approx([1000] * 3, rel=0.1)


def test_pair_counts_and_errors() -> None:
    codes = {"a": np.array([0, 0, 1, 1]), "b": np.array([0, 0, 1, 1]), "c": np.array([0, 1, 0, 1])}
    sizes = {"a": 2, "b": 2, "c": 2}
    np.testing.assert_array_equal(pair_counts(codes, sizes, ("a", "c")), [[1, 1], [1, 1]])
    one_way = {name: np.array([2.0, 2.0]) for name in codes}
    errors = pair_errors(codes, sizes, one_way)
    assert errors == {("a", "b"): 4.0, ("a", "c"): 0.0, ("b", "c"): 0.0}


def test_spanning_tree_connects_every_column_and_prefers_large_errors() -> None:
    columns = ["a", "b", "c", "d", "e"]
    errors = {pair: 0.0 for pair in itertools.combinations(columns, 2)}
    errors |= {("a", "b"): 1e4, ("b", "c"): 1e4, ("c", "d"): 1e4, ("d", "e"): 1e4}
    tree = spanning_tree(errors, columns, epsilon=1.0, noise=generator())
    assert sorted(tree) == [("a", "b"), ("b", "c"), ("c", "d"), ("d", "e")]


def test_spanning_tree_is_a_tree_whatever_the_scores() -> None:
    columns = list("abcdefg")
    errors = {pair: 1.0 for pair in itertools.combinations(columns, 2)}
    for seed in range(5):
        tree = spanning_tree(errors, columns, epsilon=0.1, noise=generator(seed))
        reached, frontier = {"a"}, ["a"]
        while frontier:
            node = frontier.pop()
            for a, b in tree:
                for here, there in ((a, b), (b, a)):
                    if here == node and there not in reached:
                        reached.add(there)
                        frontier.append(there)
        assert len(tree) == len(columns) - 1 and reached == set(columns)
