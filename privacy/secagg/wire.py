"""Byte encodings of what SecAgg+ sites and the server exchange (and a site's state).

JSON with bytes as ``{"hex": ...}`` and integer keys as strings: small, explicit and
free of pickle. Both sides of the protocol use these functions.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from privacy.secagg.messages import Advertisement, MaskedInput, UnmaskRequest


def dumps(value: Any) -> bytes:
    """Encode dicts, lists, tuples, bytes, ints, floats and strings."""
    return json.dumps(_encode(value)).encode()


def loads(data: bytes) -> Any:
    """Decode :func:`dumps` output (tuples come back as lists, int keys as strings)."""
    return _decode(json.loads(data))


def dump_ad(ad: Advertisement) -> bytes:
    return dumps(dataclasses.asdict(ad))


def load_ad(data: bytes) -> Advertisement:
    return Advertisement(**loads(data))


def dump_ads(ads: Mapping[int, Advertisement]) -> bytes:
    return dumps({node: dataclasses.asdict(ad) for node, ad in ads.items()})


def load_ads(data: bytes) -> dict[int, Advertisement]:
    return {int(node): Advertisement(**fields) for node, fields in loads(data).items()}


def dump_sealed(sealed: Mapping[int, bytes]) -> bytes:
    return dumps(dict(sealed))


def load_sealed(data: bytes) -> dict[int, bytes]:
    """Sealed shares by node; ValueError unless every share is bytes (the sender of
    anything else is malformed, not its receiver)."""
    sealed = {int(node): value for node, value in loads(data).items()}
    if not all(isinstance(v, bytes) for v in sealed.values()):
        raise ValueError("a sealed share is not bytes")
    return sealed


def dump_masked(masked: MaskedInput, modulus_bits: int) -> bytes:
    """A 4-byte header length, a JSON header, then the vector's residues packed in
    ceil(modulus_bits / 8) little-endian bytes each (6 bytes at the default 44 bits)."""
    width = max(1, -(-modulus_bits // 8))
    header = dumps({"node": masked.node, "masked_with": masked.masked_with,
                    "rejected": masked.rejected, "words": len(masked.vector),
                    "word_bytes": width})
    words = np.ascontiguousarray(masked.vector, dtype="<u8").view(np.uint8).reshape(-1, 8)
    return len(header).to_bytes(4, "big") + header + words[:, :width].tobytes()


def load_masked(data: bytes) -> MaskedInput:
    """Decode :func:`dump_masked`; ValueError on a malformed or truncated payload."""
    size = int.from_bytes(data[:4], "big")
    raw = loads(data[4:4 + size])
    count, width = int(raw["words"]), int(raw["word_bytes"])
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + size)
    if not 1 <= width <= 8 or body.size != count * width:
        raise ValueError("masked vector does not match its header")
    words = np.zeros((count, 8), dtype=np.uint8)
    words[:, :width] = body.reshape(count, width)
    return MaskedInput(int(raw["node"]), words.view("<u8").ravel().astype(np.uint64),
                       tuple(raw["masked_with"]), tuple(raw["rejected"]))


def dump_request(request: UnmaskRequest) -> bytes:
    return dumps(dataclasses.asdict(request))


def load_request(data: bytes) -> UnmaskRequest:
    raw = loads(data)
    return UnmaskRequest(tuple(raw["survivors"]), tuple(raw["dropped"]))


def dump_shares(shares: Mapping[int, tuple[str, bytes]]) -> bytes:
    return dumps(dict(shares))


def load_shares(data: bytes) -> dict[int, tuple[str, bytes]]:
    return {int(node): (kind, share) for node, (kind, share) in loads(data).items()}


def _encode(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"hex": value.hex()}
    if isinstance(value, Mapping):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"hex"}:
            return bytes.fromhex(value["hex"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value
