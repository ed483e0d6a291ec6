"""Drive one SecAgg+ round in memory (site and server state machines, no Flower).

Faults are injected per site and stage: a site listed in ``drop`` under a stage name
stops answering from that stage on; ``tamper`` flips a byte of chosen share ciphertexts.
Every site's state goes through ``to_bytes``/``from_bytes`` between stages, as it does
when an app keeps it in its context.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from privacy.secagg import wire
from privacy.secagg.identity import IdentityKey
from privacy.secagg.params import SecAggParams
from privacy.secagg.server import ServerRound
from privacy.secagg.site import (
    SiteRound,
    advertise,
    mask_input,
    share_keys,
    unmask,
    verify_cohort,
)

STAGES = ("advertise", "share", "mask", "unmask")


def params(sites: int, **overrides) -> SecAggParams:
    """Small, valid parameters for ``sites`` sites."""
    k = overrides.pop("neighbours", max(2, sites - 1))
    k = min(sites - 1, k + k % 2)  # as SecAggParams.for_cohort and the graph round it
    values = {"neighbours": k, "threshold": max(1, k // 2 + 1), "clipping_range": 1.0,
              "quantization_bits": 16, "modulus_bits": 32, "stage_timeout": 10.0}
    values.update(overrides)
    values.setdefault("min_cohort", values["threshold"])
    return SecAggParams(**values)


def run_round(values: Mapping[int, np.ndarray], p: SecAggParams, *,
              drop: Mapping[str, set[int]] | None = None,
              tamper: set[tuple[int, int]] | None = None,
              exact: Mapping[int, list[int]] | None = None) -> tuple[np.ndarray, int]:
    """Run stages 1-4; returns the server's decoded sum and the number of survivors
    (with ``exact``, the exact integer sums are appended to the decoded sum)."""
    exact = exact or {}
    drop = drop or {}
    tamper = tamper or set()
    length = len(next(iter(values.values())))
    server = ServerRound(p, run="run-1", round=1)
    states: dict[int, bytes] = {}

    def alive(stage: str) -> list[int]:
        gone = set().union(*(drop.get(s, set()) for s in STAGES[:STAGES.index(stage) + 1]))
        return [n for n in states if n not in gone]

    ads, trusted = {}, {}
    for node in values:
        identity = IdentityKey.generate()
        trusted[f"site-{node}"] = identity.public_bytes
        ad, state = advertise(run="run-1", server_round=1, node=node, site=f"site-{node}",
                              identity=identity)
        states[node] = state.to_bytes()
        ads[node] = ad
    ads = {n: ads[n] for n in alive("advertise")}
    hoods = server.neighbourhoods(ads)
    sealed = {}
    for node in (n for n in alive("share") if n in hoods):
        state = SiteRound.from_bytes(states[node])
        verified = verify_cohort(state, ads, trusted)
        sealed[node], state = share_keys(state, p, verified, sorted(hoods[node]))
        states[node] = state.to_bytes()
        for receiver in list(sealed[node]):
            if (node, receiver) in tamper:
                ct = bytearray(sealed[node][receiver])
                ct[-1] ^= 1
                sealed[node][receiver] = bytes(ct)
    inbox = server.route(sealed)
    masked = {}
    for node in (n for n in alive("mask") if n in inbox):
        sent, state = mask_input(SiteRound.from_bytes(states[node]), p, values[node],
                                 inbox[node], exact.get(node, ()))
        masked[node] = wire.load_masked(wire.dump_masked(sent, p.modulus_bits))
        states[node] = state.to_bytes()
    width = len(next(iter(exact.values()))) if exact else 0
    requests = server.unmask_requests(masked, width=length + width)
    responses = {}
    for node in (n for n in alive("unmask") if n in requests):
        responses[node], state = unmask(SiteRound.from_bytes(states[node]), requests[node])
        states[node] = state.to_bytes()
    result, count, sums = server.aggregate(responses, length, width)
    return (np.concatenate([result, sums.astype(np.float64)]) if width else result), count
