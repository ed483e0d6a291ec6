"""privacy.secagg.graph: the random Harary neighbour graph and the default degree."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from privacy.secagg import graph
from privacy.secagg.graph import default_neighbours, neighbour_graph
from tests.support.insecure_rng import forbid_insecure_rng


def _check_shape(g: dict[int, tuple[int, ...]], nodes: list[int], degree: int) -> None:
    """Keys are the nodes in order; degree-regular, symmetric, no self-loops."""
    assert list(g) == nodes
    for node, neighbours in g.items():
        assert len(neighbours) == degree
        assert list(neighbours) == sorted(set(neighbours))
        assert node not in neighbours
        assert set(neighbours) <= set(nodes)
        assert all(node in g[other] for other in neighbours)


@given(
    st.lists(st.integers(-(2**63), 2**63 - 1), min_size=0, max_size=60, unique=True),
    st.integers(1, 70),
)
def test_regular_symmetric_without_self_loops(nodes: list[int], k: int) -> None:
    even = k + k % 2
    degree = even if even < len(nodes) - 1 else max(len(nodes) - 1, 0)
    _check_shape(neighbour_graph(nodes, k), nodes, degree)


@pytest.mark.parametrize(("n", "k"), [(2, 1), (3, 2), (5, 4), (5, 9), (6, 5), (8, 7)])
def test_complete_when_k_reaches_n_minus_one(n: int, k: int) -> None:
    nodes = list(range(10, 10 + n))
    assert neighbour_graph(nodes, k) == {
        node: tuple(other for other in nodes if other != node) for node in nodes
    }


def test_degenerate_cohorts() -> None:
    assert neighbour_graph([], 4) == {}
    assert neighbour_graph([7], 4) == {7: ()}


def test_odd_k_is_rounded_up() -> None:
    nodes = list(range(20))
    _check_shape(neighbour_graph(nodes, 3), nodes, 4)
    _check_shape(neighbour_graph(nodes, 4), nodes, 4)


def test_is_the_harary_ring_in_the_shuffled_order(monkeypatch: pytest.MonkeyPatch) -> None:
    class Reverse:
        """A stand-in shuffle with a known outcome (the ring 9, 8, ..., 0)."""

        def shuffle(self, items: list[int]) -> None:
            items.reverse()

    monkeypatch.setattr(graph, "_RNG", Reverse())
    g = neighbour_graph(list(range(10)), 4)
    assert g[0] == (1, 2, 8, 9)
    assert g[5] == (3, 4, 6, 7)
    assert g[9] == (0, 1, 7, 8)


def test_graphs_are_random() -> None:
    nodes = list(range(50))
    assert neighbour_graph(nodes, 4) != neighbour_graph(nodes, 4)


def test_every_pair_is_equally_likely_to_be_joined() -> None:
    # On a uniformly shuffled ring of 10 nodes with k = 2, a given pair is adjacent with
    # probability 2/9; count how often nodes 0 and 1, and 0 and 5, are.
    draws = 3000
    graphs = [neighbour_graph(list(range(10)), 2) for _ in range(draws)]
    expected, sd = draws * 2 / 9, math.sqrt(draws * 2 / 9 * 7 / 9)
    for other in (1, 5):
        joined = sum(other in g[0] for g in graphs)
        assert abs(joined - expected) < 6 * sd


def test_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="at least one neighbour, got k=0"):
        neighbour_graph([1, 2, 3], 0)
    with pytest.raises(ValueError, match="distinct"):
        neighbour_graph([1, 2, 2], 2)
    with pytest.raises(ValueError, match="at least 2 sites, got 1"):
        default_neighbours(1)


def test_default_neighbours() -> None:
    assert [default_neighbours(n) for n in (2, 3, 10, 33)] == [1, 2, 9, 32]  # complete
    assert [default_neighbours(n) for n in (34, 100, 1000, 10**6)] == [32, 34, 38, 52]
    for n in (34, 100, 1000, 10**6):  # the rule in the docstring, and the smallest such k
        k = default_neighbours(n)
        assert k % 2 == 0
        assert n * graph.BAD_FRACTION ** (k / 2) <= 2.0**-graph.SECURITY_BITS
        assert n * graph.BAD_FRACTION ** (k / 2 - 1) > 2.0**-graph.SECURITY_BITS


@given(st.integers(2, 10**7))
def test_default_neighbours_is_logarithmic_and_capped(n: int) -> None:
    k = default_neighbours(n)
    assert 1 <= k <= n - 1
    assert k <= 2 * math.ceil((math.log2(n) + 20) / math.log2(3))
    assert default_neighbours(n + 1) >= k


def test_uses_no_insecure_randomness(monkeypatch: pytest.MonkeyPatch) -> None:
    forbid_insecure_rng(monkeypatch)
    nodes = list(range(30))
    _check_shape(neighbour_graph(nodes, 6), nodes, 6)
