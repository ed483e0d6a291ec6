"""A lying coordinator for the in-process grid (tests only).

Each function here returns a ``rewrite`` for :class:`~tests.support.inprocess_grid.
InProcessGrid`: it sees the secure-aggregation payloads of one stage on their way from
the ServerApp to the sites (``server/secure_aggregation.py`` builds them with
``privacy.secagg.wire``) and changes what one site receives, as a malicious or broken
coordinator could: a flipped byte in a routed share ciphertext, a ciphertext replayed
from another round or another sender/receiver pair, a forged or swapped key
advertisement, an unmask request for both secrets of one site.

Stage payloads, by destination node:

* ``share``: ``{"cohort": dump_ads({node: Advertisement}), "neighbours": [node, ...]}``
  (every advertisement of the round, and the receiver's neighbours)
* ``mask``: ``{"inbox": dump_sealed({sender: sealed share})}``
* ``unmask``: ``dump_request(UnmaskRequest(survivors, dropped))``
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from conf import protocol
from privacy.secagg import wire
from privacy.secagg.identity import IdentityKey, sign_advertisement
from privacy.secagg.keys import KeyPair
from privacy.secagg.messages import Advertisement, UnmaskRequest
from tests.support.inprocess_grid import Rewrite

FORGERIES = ("own-keys", "own-identity", "swapped", "relabelled", "replayed")
REPLAYS = ("previous-round", "other-receiver", "other-sender")


def inbox(payload: bytes) -> dict[int, bytes]:
    """The share ciphertexts, by sender, in a mask-stage payload."""
    return wire.load_sealed(wire.loads(payload)["inbox"])


def with_inbox(payload: bytes, box: dict[int, bytes]) -> bytes:
    raw = wire.loads(payload)
    return wire.dumps({**raw, "inbox": wire.dump_sealed(box)})


def cohort(payload: bytes) -> dict[int, Advertisement]:
    """The round's key advertisements, by node, in a share-stage payload."""
    return wire.load_ads(wire.loads(payload)["cohort"])


def with_cohort(payload: bytes, ads: dict[int, Advertisement]) -> bytes:
    raw = wire.loads(payload)
    return wire.dumps({**raw, "cohort": wire.dump_ads(ads)})


def neighbour_ids(payload: bytes) -> list[int]:
    """The receiver's neighbours in a share-stage payload."""
    return [int(node) for node in wire.loads(payload)["neighbours"]]


def with_neighbour_ids(payload: bytes, nodes: list[int]) -> bytes:
    raw = wire.loads(payload)
    return wire.dumps({**raw, "neighbours": sorted(nodes)})


def _at(stage: str, receiver: int, edit: Callable[[int, dict[int, bytes]], bytes]
        ) -> Rewrite:
    """A rewrite that replaces ``receiver``'s payload of ``stage`` with
    ``edit(server_round, payloads)``; its ``calls`` counts the rounds it saw."""

    def rewrite(at: str, round_: int, payloads: dict[int, bytes]) -> dict[int, bytes]:
        if at != stage or receiver not in payloads:
            return {}
        rewrite.calls += 1
        return {receiver: edit(round_, payloads)}

    rewrite.calls = 0
    return rewrite


def flip_share(sender: int, receiver: int) -> Rewrite:
    """Flip one byte of the share ciphertext ``sender`` sealed for ``receiver``."""

    def edit(_: int, payloads: dict[int, bytes]) -> bytes:
        box = inbox(payloads[receiver])
        sealed = bytearray(box[sender])
        sealed[len(sealed) // 2] ^= 0x01
        return with_inbox(payloads[receiver], {**box, sender: bytes(sealed)})

    return _at(protocol.MASK, receiver, edit)


def replay_share(how: str, sender: int, receiver: int, other: int) -> Rewrite:
    """Deliver to ``receiver``, as ``sender``'s share, a genuine ciphertext from elsewhere:

    * ``previous-round``: the one ``sender`` sealed for ``receiver`` in round 1 (used in
      round 2; the round-1 run has to last two rounds);
    * ``other-receiver``: the one ``sender`` sealed for ``other`` this round;
    * ``other-sender``: the one ``other`` sealed for ``receiver`` this round.
    """
    kept: dict[int, bytes] = {}

    def edit(round_: int, payloads: dict[int, bytes]) -> bytes:
        box = inbox(payloads[receiver])
        if how == "previous-round":
            if round_ == 1:
                kept[sender] = box[sender]
                return payloads[receiver]
            replayed = kept[sender]
        elif how == "other-receiver":
            replayed = inbox(payloads[other])[sender]
        elif how == "other-sender":
            replayed = box[other]
        else:
            raise ValueError(how)
        assert replayed != box[sender]
        return with_inbox(payloads[receiver], {**box, sender: replayed})

    return _at(protocol.MASK, receiver, edit)


def forge_ad(how: str, sender: int, receiver: int, other: int, run: str) -> Rewrite:
    """Show ``receiver`` a key advertisement for ``sender`` that ``sender`` did not sign
    for this round:

    * ``own-keys``: the coordinator's own X25519 keys under ``sender``'s signature;
    * ``own-identity``: the coordinator's keys signed with the coordinator's identity key;
    * ``swapped``: ``other``'s (genuinely signed) keys under ``sender``'s signature;
    * ``relabelled``: ``other``'s whole advertisement, relabelled as ``sender``'s;
    * ``replayed``: ``sender``'s genuine advertisement of round 1 (used in round 2; the
      run has to last two rounds).

    ``run`` is the run id the sites sign for (the grid's, as a string).
    """
    kept: dict[int, Advertisement] = {}

    def edit(round_: int, payloads: dict[int, bytes]) -> bytes:
        ads = cohort(payloads[receiver])
        real, twin = ads[sender], ads[other]
        cipher, mask = KeyPair.generate(), KeyPair.generate()
        if how == "own-keys":
            forged = dataclasses.replace(real, cipher_public=cipher.public_bytes,
                                         mask_public=mask.public_bytes)
        elif how == "own-identity":
            identity = IdentityKey.generate()
            forged = dataclasses.replace(
                real, cipher_public=cipher.public_bytes, mask_public=mask.public_bytes,
                identity_public=identity.public_bytes,
                signature=sign_advertisement(identity, site=real.site, node=sender,
                                             run=run, round=round_,
                                             cipher_public=cipher.public_bytes,
                                             mask_public=mask.public_bytes))
        elif how == "swapped":
            forged = dataclasses.replace(real, cipher_public=twin.cipher_public,
                                         mask_public=twin.mask_public)
        elif how == "relabelled":
            forged = dataclasses.replace(twin, node=sender, site=real.site)
        elif how == "replayed":
            if round_ == 1:
                kept[sender] = real
                return payloads[receiver]
            forged = kept[sender]
        else:
            raise ValueError(how)
        assert forged != real
        return with_cohort(payloads[receiver], {**ads, sender: forged})

    return _at(protocol.SHARE, receiver, edit)


def forge_every_ad() -> Rewrite:
    """Show every site the coordinator's own keys for every neighbour (under the
    neighbours' real signatures): no site can take part without using forged keys."""

    def rewrite(stage: str, _: int, payloads: dict[int, bytes]) -> dict[int, bytes]:
        if stage != protocol.SHARE:
            return {}
        out = {}
        for node, payload in payloads.items():
            ads = {n: dataclasses.replace(ad, cipher_public=KeyPair.generate().public_bytes,
                                          mask_public=KeyPair.generate().public_bytes)
                   for n, ad in cohort(payload).items() if n != node}
            out[node] = with_cohort(payload, {**ads, node: cohort(payload)[node]})
        return out

    return rewrite


def ask_both(receiver: int, about: int) -> Rewrite:
    """Ask ``receiver`` for ``about``'s self-mask seed share *and* its mask-key share."""

    def edit(_: int, payloads: dict[int, bytes]) -> bytes:
        request = wire.load_request(payloads[receiver])
        assert about in request.survivors
        return wire.dump_request(UnmaskRequest(request.survivors,
                                               tuple(sorted({*request.dropped, about}))))

    return _at(protocol.UNMASK, receiver, edit)
