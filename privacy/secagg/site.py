"""The site's side of one SecAgg+ round, stage by stage (no Flower).

A site holds two X25519 key pairs per round (one to encrypt shares, one for pairwise
masks) and a 32-byte self-mask seed. It Shamir-shares the seed and the mask private
key among its neighbours, masks its quantised input with the self mask and the pairwise
masks, and at unmasking reveals, for each neighbour, either that neighbour's seed share
(it survived) or its mask-key share (it dropped), never both.

State between stages is a :class:`SiteRound`, serialisable with ``to_bytes`` so a
stateless app can keep it in its context.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from privacy.secagg import aead, masks, shamir, wire
from privacy.secagg.errors import ForgedKeyError, SecAggError, TamperedCiphertextError
from privacy.secagg.identity import IdentityKey, sign_advertisement, verify_advertisement
from privacy.secagg.keys import (
    PAIRWISE_MASK,
    SHARE_ENCRYPTION,
    KeyPair,
    agree,
    derive_key,
    encode_fields,
)
from privacy.secagg.messages import (
    PAIRWISE,
    SELF_MASK,
    Advertisement,
    MaskedInput,
    UnmaskRequest,
)
from privacy.secagg.params import CohortTooSmallError, SecAggParams
from privacy.secagg.quantize import Quantizer

SHARE_STAGE = "share-keys"
SECRET_BYTES = 32


class UpdateRejectedError(SecAggError):
    """The site's own update is not finite or not within the clipping range."""


class UnmaskRefusedError(SecAggError):
    """The unmask request would reveal both secrets of one site."""


@dataclass(frozen=True)
class SiteRound:
    """Everything a site remembers between the stages of one round."""

    run: str
    round: int
    node: int
    site: str
    cipher_private: bytes
    mask_private: bytes
    self_seed: bytes
    cohort: int = 0  # sites whose signed advertisements this site verified
    neighbours: dict[int, Advertisement] = field(default_factory=dict)
    aead_keys: dict[int, bytes] = field(default_factory=dict)  # per neighbour, for shares
    received: dict[int, bytes] = field(default_factory=dict)
    masked_with: tuple[int, ...] = ()
    revealed: dict[int, str] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        """JSON with hex-encoded bytes (secret: keep it on the site only)."""
        return wire.dumps(asdict(self))

    @classmethod
    def from_bytes(cls, data: bytes) -> SiteRound:
        raw = wire.loads(data)
        raw["neighbours"] = {int(k): Advertisement(**v) for k, v in raw["neighbours"].items()}
        raw["aead_keys"] = {int(k): v for k, v in raw["aead_keys"].items()}
        raw["received"] = {int(k): v for k, v in raw["received"].items()}
        raw["revealed"] = {int(k): v for k, v in raw["revealed"].items()}
        raw["masked_with"] = tuple(raw["masked_with"])
        return cls(**raw)


def advertise(*, run: str, server_round: int, node: int, site: str,
              identity: IdentityKey) -> tuple[Advertisement, SiteRound]:
    """Stage 1: fresh keys and seed for this round; the public keys, signed."""
    cipher, mask = KeyPair.generate(), KeyPair.generate()
    signature = sign_advertisement(identity, site=site, node=node, run=run, round=server_round,
                                   cipher_public=cipher.public_bytes,
                                   mask_public=mask.public_bytes)
    ad = Advertisement(node, site, cipher.public_bytes, mask.public_bytes,
                       identity.public_bytes, signature)
    state = SiteRound(run, server_round, node, site, cipher.private_bytes(),
                      mask.private_bytes(), masks.new_seed())
    return ad, state


def verify_cohort(state: SiteRound, ads: Mapping[int, Advertisement],
                  trusted: Mapping[str, bytes]) -> dict[int, Advertisement]:
    """Stage 2, first: the round's cohort as this site can verify it.

    ``ads`` are every advertisement the coordinator says it received this round;
    ``trusted`` maps site names to identity public keys the site got outside the
    coordinator's reach (the deployment CA, or the simulation launcher). Each must be
    signed for this run and round by a distinct trusted site, and the site's own must be
    among them unchanged, so the cohort size the site derives k and t from is one the
    coordinator cannot inflate with keys of its own.
    """
    sites: set[str] = set()
    for node, ad in ads.items():
        if node != ad.node:
            raise SecAggError(f"site {state.site}: advertisement for node {node} is misrouted")
        if trusted.get(ad.site) != ad.identity_public:
            raise ForgedKeyError(
                f"site {state.site}: {ad.site!r} (node {node}) advertised an identity key that "
                "is not the one this site trusts for it; refusing to take part")
        verify_advertisement(ad.identity_public, ad.signature, site=ad.site, node=ad.node,
                             run=state.run, round=state.round, cipher_public=ad.cipher_public,
                             mask_public=ad.mask_public)
        if ad.site in sites:
            raise SecAggError(f"site {state.site}: {ad.site!r} advertised twice in one round "
                              "(under two nodes); refusing to take part")
        sites.add(ad.site)
    own = ads.get(state.node)
    if own is None or (own.cipher_public, own.mask_public) != _own_public_keys(state):
        raise SecAggError(f"site {state.site}: its own advertisement is missing from the "
                          "cohort or altered; refusing to take part")
    return dict(ads)


def share_keys(state: SiteRound, params: SecAggParams, cohort: Mapping[int, Advertisement],
               neighbours: Sequence[int]) -> tuple[dict[int, bytes], SiteRound]:
    """Stage 2: share the seed and mask key among the neighbours the coordinator chose.

    ``cohort`` is the verified cohort (:func:`verify_cohort`) and ``params`` the
    parameters the site derived from its size. The neighbours must be at most k distinct
    members of the cohort and at least t: with t above k/2 no split of them can hand the
    coordinator t shares of both secrets.
    """
    if len(cohort) < params.min_cohort:
        raise CohortTooSmallError(
            f"site {state.site}: only {len(cohort)} site(s) in this round's verified cohort, "
            f"below secagg.min_cohort={params.min_cohort}; refusing to take part")
    chosen = set(neighbours)
    if len(chosen) != len(neighbours) or state.node in chosen or not chosen <= set(cohort):
        raise SecAggError(f"site {state.site}: its neighbours must be distinct other members "
                          "of the verified cohort; refusing to take part")
    if len(chosen) > params.neighbours:
        raise SecAggError(
            f"site {state.site}: {len(chosen)} neighbours, more than k={params.neighbours} "
            f"for a cohort of {len(cohort)} (with t={params.threshold}, more than k "
            "neighbours could hand the coordinator both of its secrets); refusing")
    if len(chosen) < params.threshold:
        raise CohortTooSmallError(
            f"site {state.site}: {len(chosen)} neighbour(s), fewer than "
            f"t={params.threshold}; its secrets could not be reconstructed")
    order = sorted(chosen)
    seed_shares = shamir.split(state.self_seed, params.threshold, len(order))
    key_shares = shamir.split(state.mask_private, params.threshold, len(order))
    cipher = KeyPair.from_private_bytes(state.cipher_private)
    keys = {node: _share_key(cipher, cohort[node], state, node) for node in order}
    sealed = {}
    for node, seed_share, key_share in zip(order, seed_shares, key_shares, strict=True):
        plaintext = seed_share.to_bytes() + key_share.to_bytes()
        sealed[node] = aead.seal(keys[node], plaintext, sender=state.node, receiver=node,
                                 run=state.run, round=state.round, stage=SHARE_STAGE)
    return sealed, replace(state, cohort=len(cohort),
                           neighbours={node: cohort[node] for node in order}, aead_keys=keys)


def mask_input(state: SiteRound, params: SecAggParams, values: np.ndarray,
               received: Mapping[int, bytes], exact: Sequence[int] = ()
               ) -> tuple[MaskedInput, SiteRound]:
    """Stage 3: check the update, quantise it, add the self and pairwise masks.

    ``received`` holds the share ciphertexts neighbours sent this site; a neighbour whose
    ciphertext does not authenticate is left out of the masks and reported. ``exact``
    integers (e.g. the site's FedAvg weight) are appended unquantised and summed exactly.
    """
    values = np.asarray(values, dtype=np.float64).ravel()
    if not np.isfinite(values).all():
        raise UpdateRejectedError(f"site {state.site}: its update has NaN/inf values; not sent")
    if np.abs(values).max(initial=0.0) > params.clipping_range:
        raise UpdateRejectedError(
            f"site {state.site}: its update leaves the clipping range ±{params.clipping_range:g}"
            " (secagg.clipping_range); not sent")
    quantizer = Quantizer(params.clipping_range, params.quantization_bits, params.modulus_bits)
    if any(not 0 <= n < quantizer.modulus for n in exact):
        raise UpdateRejectedError(f"site {state.site}: exact value out of [0, 2^modulus_bits)")
    encoded = np.concatenate([quantizer.encode(values), np.asarray(exact, dtype=np.uint64)])
    mask_private = state.mask_private
    accepted, rejected, seeds = {}, [], {}
    for node, ciphertext in sorted(received.items()):
        if node not in state.neighbours:
            continue
        try:
            _open_share(state, node, ciphertext)
        except TamperedCiphertextError:
            rejected.append(node)
            continue
        accepted[node] = ciphertext
        seeds[node] = pairwise_seed(mask_private, state.neighbours[node], state.run,
                                    state.round, state.node)
    vector = masks.mask_vector(encoded, node=state.node, modulus_bits=params.modulus_bits,
                               self_seed=state.self_seed, pairwise_seeds=seeds)
    masked = MaskedInput(state.node, vector, tuple(accepted), tuple(rejected))
    return masked, replace(state, received=accepted, masked_with=tuple(accepted))


def unmask(state: SiteRound, request: UnmaskRequest) -> tuple[dict[int, tuple[str, bytes]],
                                                              SiteRound]:
    """Stage 4: a seed share for each surviving neighbour, a mask-key share for each
    dropped one; refuses any request that would reveal both secrets of one site."""
    survivors, dropped = set(request.survivors), set(request.dropped)
    both = survivors & dropped
    revealed = dict(state.revealed)
    asked = {node: SELF_MASK for node in survivors} | {node: PAIRWISE for node in dropped}
    conflict = both | {n for n, kind in asked.items() if revealed.get(n, kind) != kind}
    if conflict:
        raise UnmaskRefusedError(
            f"site {state.site}: unmask request asks for both secrets of node(s) "
            f"{sorted(conflict)}; refused (that would reveal their input)")
    shares = {}
    for node, kind in sorted(asked.items()):
        if node not in state.received:
            continue
        seed_share, key_share = _split_plaintext(_open_share(state, node, state.received[node]))
        shares[node] = (kind, seed_share if kind == SELF_MASK else key_share)
        revealed[node] = kind
    return shares, replace(state, revealed=revealed)


def pairwise_seed(mask_private: bytes, peer: Advertisement, run: str, server_round: int,
                  node: int) -> bytes:
    """The 32-byte seed node ``node`` shares with ``peer`` (the server recomputes it from a
    reconstructed mask key of a dropped site)."""
    shared = agree(KeyPair.from_private_bytes(mask_private), peer.mask_public)
    return derive_key(shared, purpose=PAIRWISE_MASK,
                      context=_pair_context(run, server_round, node, peer.node))


def _own_public_keys(state: SiteRound) -> tuple[bytes, bytes]:
    return (KeyPair.from_private_bytes(state.cipher_private).public_bytes,
            KeyPair.from_private_bytes(state.mask_private).public_bytes)


def _share_key(cipher: KeyPair, peer: Advertisement, state: SiteRound, node: int) -> bytes:
    shared = agree(cipher, peer.cipher_public)
    return derive_key(shared, purpose=SHARE_ENCRYPTION,
                      context=_pair_context(state.run, state.round, state.node, node))


def _open_share(state: SiteRound, sender: int, ciphertext: bytes) -> bytes:
    return aead.open_sealed(state.aead_keys[sender], ciphertext, sender=sender,
                            receiver=state.node, run=state.run, round=state.round,
                            stage=SHARE_STAGE)


def _split_plaintext(plaintext: bytes) -> tuple[bytes, bytes]:
    half = len(plaintext) // 2
    return plaintext[:half], plaintext[half:]


def _pair_context(run: str, server_round: int, a: int, b: int) -> bytes:
    low, high = sorted((a, b))
    return encode_fields(run, server_round, low, high)
