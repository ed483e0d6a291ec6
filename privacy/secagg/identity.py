"""Ed25519 identity keys: a site signs the public keys it advertises each round, and every
site checks its neighbours' signatures, so a coordinator cannot substitute its own keys.

The signed message is :func:`advertisement_bytes`: a domain tag, the site's name and node
id, the run and round, and both advertised X25519 public keys, canonically encoded. A
signature therefore cannot be moved to another site, node, run, round or key.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from privacy.secagg.errors import ForgedKeyError, SecAggError
from privacy.secagg.keys import encode_fields

IDENTITY_KEY_BYTES = 32
SIGNATURE_BYTES = 64
_DOMAIN = "privfl-secagg/key-advertisement/v1"
_RAW = serialization.Encoding.Raw


@dataclass(frozen=True)
class IdentityKey:
    """An Ed25519 signing key and its 32-byte raw public key."""

    private: Ed25519PrivateKey
    public_bytes: bytes

    @classmethod
    def generate(cls) -> IdentityKey:
        """A fresh identity key from OS entropy (per run in simulation)."""
        return cls._of(Ed25519PrivateKey.generate())

    @classmethod
    def from_private_bytes(cls, raw: bytes) -> IdentityKey:
        """The identity key whose 32-byte raw private key (RFC 8032 seed) is ``raw``."""
        if len(raw) != IDENTITY_KEY_BYTES:
            raise SecAggError(f"an Ed25519 private key is {IDENTITY_KEY_BYTES} bytes, "
                              f"got {len(raw)}")
        return cls._of(Ed25519PrivateKey.from_private_bytes(raw))

    def private_bytes(self) -> bytes:
        """The 32-byte raw private key (secret: keep it on the site)."""
        return self.private.private_bytes(_RAW, serialization.PrivateFormat.Raw,
                                          serialization.NoEncryption())

    @classmethod
    def _of(cls, private: Ed25519PrivateKey) -> IdentityKey:
        public = private.public_key().public_bytes(_RAW, serialization.PublicFormat.Raw)
        return cls(private, public)


def advertisement_bytes(*, site: str, node: int, run: str, round: int, cipher_public: bytes,
                        mask_public: bytes) -> bytes:
    """The canonical message a site signs for one round's key advertisement."""
    return encode_fields(_DOMAIN, site, node, run, round, cipher_public, mask_public)


def sign_advertisement(identity: IdentityKey, *, site: str, node: int, run: str, round: int,
                       cipher_public: bytes, mask_public: bytes) -> bytes:
    """The 64-byte Ed25519 signature of :func:`advertisement_bytes` for these fields."""
    return identity.private.sign(advertisement_bytes(
        site=site, node=node, run=run, round=round, cipher_public=cipher_public,
        mask_public=mask_public))


def verify_advertisement(identity_public: bytes, signature: bytes, *, site: str, node: int,
                         run: str, round: int, cipher_public: bytes, mask_public: bytes) -> None:
    """Check that ``signature`` is the site's signature of exactly these fields.

    ``identity_public`` must come from a trusted source (the deployment CA, or the per-run
    list in simulation), never from the coordinator's relay of the advertisement itself.
    Raises ForgedKeyError naming the site and node otherwise.
    """
    message = advertisement_bytes(site=site, node=node, run=run, round=round,
                                  cipher_public=cipher_public, mask_public=mask_public)
    try:
        Ed25519PublicKey.from_public_bytes(identity_public).verify(signature, message)
    except (InvalidSignature, ValueError) as err:
        raise ForgedKeyError(
            f"key advertisement of site {site!r} (node {node}) for run {run!r}, round {round} "
            "does not verify against the site's identity key: its keys were swapped, "
            "replayed or forged; do not derive anything from them") from err
