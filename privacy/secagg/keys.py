"""X25519 key agreement and HKDF-SHA256 key derivation for SecAgg+ (``cryptography`` only).

One agreement between two sites feeds two independent keys: the HKDF ``info`` starts with
a *purpose* (:data:`SHARE_ENCRYPTION` or :data:`PAIRWISE_MASK`) and goes on with a
caller-chosen *context* (run, round, the two node ids), so a key for one use, pair or
round says nothing about another. The HKDF salt is the fixed, public string :data:`SALT`
(RFC 5869 §3.1 allows a non-secret salt; a fixed one needs no transmission and separates
this protocol's extraction from any other use of the same secret).

:func:`encode_fields` is the canonical, injective encoding of a sequence of strings,
integers and byte strings used for HKDF contexts, AEAD associated data and signed key
advertisements.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from privacy.secagg.errors import SecAggError

KEY_BYTES = 32
SALT = b"privfl-secagg/hkdf-salt/v1"
SHARE_ENCRYPTION = "privfl-secagg/share-encryption"
PAIRWISE_MASK = "privfl-secagg/pairwise-mask"

_RAW = serialization.Encoding.Raw
_TAGS = {str: b"s", bytes: b"b", int: b"i"}


@dataclass(frozen=True)
class KeyPair:
    """An X25519 private key and its 32-byte raw public key."""

    private: X25519PrivateKey
    public_bytes: bytes

    @classmethod
    def generate(cls) -> KeyPair:
        """A fresh key pair from OS entropy."""
        return cls._of(X25519PrivateKey.generate())

    @classmethod
    def from_private_bytes(cls, raw: bytes) -> KeyPair:
        """The key pair whose 32-byte raw private key is ``raw`` (see :meth:`private_bytes`)."""
        if len(raw) != KEY_BYTES:
            raise SecAggError(f"an X25519 private key is {KEY_BYTES} bytes, got {len(raw)}")
        return cls._of(X25519PrivateKey.from_private_bytes(raw))

    def private_bytes(self) -> bytes:
        """The 32-byte raw private key (secret: keep it on the site that made it)."""
        return self.private.private_bytes(_RAW, serialization.PrivateFormat.Raw,
                                          serialization.NoEncryption())

    @classmethod
    def _of(cls, private: X25519PrivateKey) -> KeyPair:
        public = private.public_key().public_bytes(_RAW, serialization.PublicFormat.Raw)
        return cls(private, public)


def agree(private: KeyPair, peer_public: bytes) -> bytes:
    """The raw 32-byte X25519 shared secret of ``private`` and a peer's raw public key.

    Raises SecAggError for a public key that is not 32 bytes and for a low-order peer key,
    whose shared secret is all zeros (the OpenSSL backend refuses to return it; a test pins
    that behaviour). Feed the result to :func:`derive_key`, never use it as a key directly.
    """
    if len(peer_public) != KEY_BYTES:
        raise SecAggError(f"an X25519 public key is {KEY_BYTES} bytes, got {len(peer_public)}")
    try:
        return private.private.exchange(X25519PublicKey.from_public_bytes(peer_public))
    except ValueError as err:
        raise SecAggError(f"peer public key {peer_public.hex()} rejected: {err}") from err


def derive_key(shared: bytes, *, purpose: str, context: bytes, length: int = KEY_BYTES) -> bytes:
    """HKDF-SHA256 of ``shared`` with salt :data:`SALT` and info
    ``encode_fields(purpose) + context``; ``length`` bytes (at most 8160)."""
    info = encode_fields(purpose) + context
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=SALT, info=info).derive(shared)


def encode_fields(*fields: str | int | bytes) -> bytes:
    """Canonical encoding: per field a type tag, then a 4-byte big-endian length and the
    UTF-8 text or bytes, or 8 big-endian bytes for an integer in [0, 2**64). Distinct
    sequences give distinct encodings, so encoded contexts cannot be confused."""
    out = bytearray()
    for value in fields:
        tag = _TAGS.get(type(value))
        if tag is None:
            raise SecAggError(f"cannot encode {type(value).__name__} {value!r}: "
                              "only str, bytes and int fields")
        if isinstance(value, int):
            if not 0 <= value < 2**64:
                raise SecAggError(f"integer field {value} is outside [0, 2**64)")
            out += tag + value.to_bytes(8, "big")
            continue
        data = value.encode("utf-8") if isinstance(value, str) else value
        out += tag + len(data).to_bytes(4, "big") + data
    return bytes(out)
