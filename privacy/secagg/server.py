"""The server's side of one SecAgg+ round (no Flower): graph, routing, unmasking.

The server only ever learns the sum of the surviving sites' quantised inputs. For each
site it asks for one kind of secret: the self-mask seed of a site whose masked input it
uses, or the mask private key of a site that dropped after sharing its keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from privacy.secagg import masks, shamir
from privacy.secagg.errors import SecAggError
from privacy.secagg.graph import neighbour_graph
from privacy.secagg.messages import (
    PAIRWISE,
    SELF_MASK,
    Advertisement,
    MaskedInput,
    UnmaskRequest,
)
from privacy.secagg.params import SecAggParams
from privacy.secagg.quantize import AggregateRangeError, Quantizer
from privacy.secagg.site import SECRET_BYTES, pairwise_seed


class RoundFailedError(SecAggError):
    """Too few sites survived (or shared) to finish the round; the model stays unchanged."""


@dataclass
class ServerRound:
    """One round's bookkeeping at the server."""

    params: SecAggParams
    run: str
    round: int
    ads: dict[int, Advertisement] = field(default_factory=dict)
    graph: dict[int, tuple[int, ...]] = field(default_factory=dict)
    shared: set[int] = field(default_factory=set)
    inputs: dict[int, MaskedInput] = field(default_factory=dict)
    dropped: set[int] = field(default_factory=set)

    @property
    def quantizer(self) -> Quantizer:
        p = self.params
        return Quantizer(p.clipping_range, p.quantization_bits, p.modulus_bits)

    def neighbourhoods(self, ads: Mapping[int, Advertisement]
                       ) -> dict[int, dict[int, Advertisement]]:
        """After stage 1: each advertising site's neighbours' advertisements."""
        self._require(len(ads), "advertised keys")
        self.params.check_sites(len(ads))
        self.ads = dict(ads)
        self.graph = neighbour_graph(sorted(ads), self.params.neighbours)
        return {node: {n: self.ads[n] for n in nbrs} for node, nbrs in self.graph.items()}

    def route(self, sealed: Mapping[int, Mapping[int, bytes]]) -> dict[int, dict[int, bytes]]:
        """After stage 2: deliver each ciphertext to its receiver, among the sites that
        shared their keys (the survivors of stage 2)."""
        self.shared = {n for n in sealed if n in self.graph}
        self._require(len(self.shared), "shared keys")
        inbox: dict[int, dict[int, bytes]] = {n: {} for n in self.shared}
        for sender in self.shared:
            for receiver, ciphertext in sealed[sender].items():
                if receiver in self.shared and receiver in self.graph[sender]:
                    inbox[receiver][sender] = ciphertext
        return inbox

    def unmask_requests(self, inputs: Mapping[int, MaskedInput],
                        width: int) -> dict[int, UnmaskRequest]:
        """After stage 3: which secret to ask each survivor for, per neighbour. An input
        that is not a ``width``-long vector counts as not sent."""
        self.inputs = {n: m for n, m in inputs.items()
                       if n in self.shared and m.vector.shape == (width,)}
        rejected = {r for m in self.inputs.values() for r in m.rejected}
        for node in rejected & set(self.inputs):  # a sender of a bad ciphertext: drop it
            del self.inputs[node]
        self._require(len(self.inputs), "sent masked inputs")
        self.dropped = self.shared - set(self.inputs)
        return {
            node: UnmaskRequest(
                survivors=tuple(sorted(n for n in self.graph[node] if n in self.inputs)),
                dropped=tuple(sorted(n for n in self.graph[node] if n in self.dropped)),
            )
            for node in self.inputs
        }

    def aggregate(self, responses: Mapping[int, Mapping[int, tuple[str, bytes]]],
                  length: int, exact: int = 0) -> tuple[np.ndarray, int, np.ndarray]:
        """After stage 4: the sum of the survivors' inputs, how many there are, and the
        exact sums of the ``exact`` integers each appended."""
        q = self.quantizer
        width = length + exact
        total = np.zeros(width, dtype=np.uint64)
        for masked in self.inputs.values():  # uint64 wraps mod 2**64, a multiple of the modulus
            np.add(total, masked.vector, out=total)
        np.bitwise_and(total, np.uint64(q.modulus - 1), out=total)
        for node in self.inputs:
            seed = self._reconstruct(node, SELF_MASK, responses)
            masks.add_mask(total, seed, self.params.modulus_bits, sign=-1)
        for node in self.dropped:
            self._cancel_pairwise(node, self._reconstruct(node, PAIRWISE, responses), total)
        try:
            result = q.decode_sum(total[:length], len(self.inputs))
        except AggregateRangeError as err:
            raise RoundFailedError(f"the unmasked aggregate is out of range ({err}); "
                                   "round discarded") from err
        bound = len(self.inputs) * self.params.clipping_range + len(self.inputs) * q.step
        if not np.isfinite(result).all() or np.abs(result).max(initial=0.0) > bound:
            raise RoundFailedError("the unmasked aggregate is not finite or exceeds the bound "
                                   f"the clipping implies (±{bound:g}); round discarded")
        return result, len(self.inputs), total[length:]

    def _cancel_pairwise(self, dropped: int, mask_private: bytes, total: np.ndarray) -> None:
        """In place: undo the pairwise masks the survivors shared with ``dropped``."""
        for node, masked in self.inputs.items():
            if dropped not in masked.masked_with:
                continue
            seed = pairwise_seed(mask_private, self.ads[node], self.run, self.round, dropped)
            # ``node`` added the mask if node < dropped, else subtracted it: undo that.
            masks.add_mask(total, seed, self.params.modulus_bits,
                           sign=-masks.pairwise_sign(node, dropped))

    def _reconstruct(self, node: int, kind: str,
                     responses: Mapping[int, Mapping[int, tuple[str, bytes]]]) -> bytes:
        shares = [
            share
            for answer in responses.values()
            if node in answer and answer[node][0] == kind
            and (share := _share_or_none(answer[node][1])) is not None
        ]
        if len(shares) < self.params.threshold:
            raise RoundFailedError(
                f"only {len(shares)} share(s) of node {node}'s {kind} secret arrived, below "
                f"secagg.threshold={self.params.threshold}; round discarded")
        try:
            return shamir.combine(shares, self.params.threshold, SECRET_BYTES)
        except shamir.ShareError as err:
            raise RoundFailedError(f"node {node}'s {kind} secret could not be rebuilt ({err});"
                                   " round discarded") from err

    def _require(self, count: int, what: str) -> None:
        if count < self.params.threshold:
            raise RoundFailedError(
                f"only {count} site(s) {what} in round {self.round}, below "
                f"secagg.threshold={self.params.threshold}; round discarded")


def _share_or_none(data: bytes) -> shamir.Share | None:
    """A malformed share counts as missing (its sender misbehaved)."""
    try:
        return shamir.Share.from_bytes(data)
    except shamir.ShareError:
        return None
