"""The SecAgg+ communication graph (Bell et al. 2020): a random Harary graph H(n, k).

The nodes are placed on a ring in a uniformly random order (``secrets.SystemRandom``) and
each is joined to the k/2 nodes on either side, so every node has exactly k neighbours.
A site exchanges keys, shares and pairwise masks only with its neighbours, which makes its
cost O(k) rather than O(n). The coordinator draws the graph, so its randomness protects
against an honest-but-curious coordinator; a malicious one can choose any graph.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Sequence

_RNG = secrets.SystemRandom()

SECURITY_BITS = 20  # default_neighbours: failure probability at most 2**-SECURITY_BITS ...
BAD_FRACTION = 1 / 3  # ... while at most this fraction of a cohort drops out or colludes


def neighbour_graph(nodes: Sequence[int], k: int) -> dict[int, tuple[int, ...]]:
    """Each node's neighbours (sorted) in a random k-regular Harary graph over ``nodes``.

    An odd ``k`` is rounded up to ``k + 1``; when that reaches ``len(nodes) - 1`` the graph
    is complete. The graph is symmetric and has no self-loops. Raises ``ValueError`` for
    ``k < 1`` or repeated nodes.
    """
    if k < 1:
        raise ValueError(f"a node needs at least one neighbour, got k={k}")
    if len(set(nodes)) != len(nodes):
        raise ValueError("nodes must be distinct")
    count, half = len(nodes), (k + 1) // 2
    if 2 * half >= count - 1:
        return {node: tuple(sorted(other for other in nodes if other != node)) for node in nodes}
    ring = list(nodes)
    _RNG.shuffle(ring)
    graph = {
        node: tuple(sorted(ring[(i + d) % count] for d in range(-half, half + 1) if d))
        for i, node in enumerate(ring)
    }
    return {node: graph[node] for node in nodes}


def default_neighbours(n: int) -> int:
    """A default k for a cohort of ``n >= 2`` sites: the smallest even k with
    ``n * BAD_FRACTION**(k/2) <= 2**-SECURITY_BITS``, capped at ``n - 1`` (complete graph).

    Why: call a site bad if it drops out or colludes with the coordinator. The coordinator
    learns only the total as long as the good sites' subgraph is connected; on the Harary
    ring that can fail only if some k/2 consecutive ring positions are all bad. With the
    random ring order each of the n windows is all bad with probability at most
    BAD_FRACTION**(k/2), so the union bound gives the rule above: k = O(log n), e.g. 34 for
    100 sites, 38 for 1000, 52 for a million; complete graphs up to 33 sites.
    """
    if n < 2:
        raise ValueError(f"secure aggregation needs at least 2 sites, got {n}")
    half = math.ceil((math.log2(n) + SECURITY_BITS) / math.log2(1 / BAD_FRACTION))
    return min(n - 1, 2 * half)
