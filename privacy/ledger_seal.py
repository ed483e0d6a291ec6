"""Tamper evidence for a ledger file: its records hash-chained, the chain's head sealed
with a key only the site holds.

Every record carries ``prev``, the SHA-256 digest of the record before it (the first
record: the digest of the ledger's header), so an edited, removed or reordered record
breaks the chain. The head (the digest of the last record, or of the header) is sealed
with HMAC-SHA256 under the site's ledger key, so a chain recomputed after an edit, a
truncated history or a changed header fails the seal unless the key is known. The key
is 32 bytes from the OS CSPRNG, written once when the ledger is created (mode 0600).
"""

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from privacy.atomic import atomic_write_text
from privacy.errors import LedgerError

KEY_BYTES = 32


def default_key_path(ledger_path: str | Path) -> Path:
    """Where a ledger's key lives unless the site's settings say otherwise: ``<name>.key``."""
    path = Path(ledger_path)
    return path.with_name(path.name + ".key")


def create_key(path: Path) -> bytes:
    """Write a fresh key to ``path`` (hex, mode 0600) and return it."""
    key = secrets.token_bytes(KEY_BYTES)
    atomic_write_text(path, key.hex() + "\n")
    return key


def read_key(path: Path) -> bytes:
    """The key in ``path``; LedgerError naming the file if it is missing or malformed."""
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise LedgerError(f"ledger key {path} is missing, so the ledger cannot be verified: "
                          "restore the key from the site's backup (or point the site's "
                          "ledger_key setting at it)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LedgerError(f"cannot read ledger key {path}: {exc}") from exc
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise LedgerError(f"ledger key {path} is not a privfl ledger key ({2 * KEY_BYTES} hex "
                          "digits): restore it from the site's backup")
    return key


def key_id(key: bytes) -> str:
    """A public name of ``key`` (recorded in the ledger's header): tells a wrong key from
    an altered ledger without revealing the key."""
    return hashlib.sha256(b"privfl-ledger-key-id\0" + key).hexdigest()[:16]


def digest(value: Mapping[str, Any]) -> str:
    """SHA-256 of ``value``'s canonical JSON (sorted keys, no spaces); a value read back
    from the file digests the same as the one written (floats round-trip exactly)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def seal(key: bytes, head: str) -> str:
    """The seal of a chain whose head is ``head``."""
    return hmac.new(key, head.encode("ascii"), hashlib.sha256).hexdigest()


def chain_head(header: Mapping[str, Any], records: Sequence[Mapping[str, Any]]) -> str:
    """The head of the chain after checking every record's ``prev``.

    LedgerError naming the first record that does not follow the one before it."""
    head = digest(header)
    for number, record in enumerate(records, start=1):
        if record.get("prev") != head:
            raise LedgerError(f"record {number} does not follow the one before it (a record "
                              "was edited, removed or reordered)")
        head = digest(record)
    return head


def check_seal(key: bytes, head: str, claimed: object) -> None:
    """LedgerError unless ``claimed`` is the seal of ``head`` under ``key``."""
    if not isinstance(claimed, str) or not hmac.compare_digest(seal(key, head), claimed):
        raise LedgerError("its seal does not match its content (records edited, added, "
                          "removed or cut off, or its header changed)")
