"""The ledger's file: a header and an append-only list of sealed records, read back
into the site's budget and charges.

Records: ``charge`` (a privacy event and when it was charged), ``release`` (the event's
result left the site), ``budget`` (the site changed its lifetime budget). Each carries
``prev`` (``privacy.ledger_seal``); the file ends with the chain's ``head`` and ``seal``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conf.errors import ConfigError
from privacy import ledger_seal
from privacy.accountants import check_accountant, check_delta
from privacy.atomic import atomic_write_text
from privacy.errors import LedgerError
from privacy.events import EventKey, PrivacyEvent, event_from_dict

FORMAT = "privfl-ledger/2"
OLD_FORMAT = "privfl-ledger/1"
UNIT = "record"
HEADER_KEYS = ("format", "site", "unit", "delta", "accountant", "budget", "created", "key_id")
RESTORE = ("restore the ledger and its key from the site's latest backup; never delete or "
           "recreate a ledger (a fresh one would forget the site's charges)")

Charge = tuple[PrivacyEvent, str, str | None]
"""A charge read back: (event, charged_at, released_at)."""


@dataclass(frozen=True)
class LedgerSettings:
    """What a ledger is fixed to (the budget: as last set)."""

    site: str
    delta: float
    accountant: str
    budget: float


def checked_settings(site: Any, delta: Any, accountant: Any, budget: Any) -> LedgerSettings:
    """The settings, checked (ConfigError naming a bad one)."""
    if not isinstance(site, str) or not site:
        raise ConfigError(f"the site name must be a non-empty string, got {site!r}")
    check_delta(delta)
    check_accountant(accountant)
    if (
        not isinstance(budget, int | float)
        or isinstance(budget, bool)
        or not (0 < budget < math.inf)
    ):
        raise ConfigError(f"the site's privacy budget must be a positive ε, got {budget!r}")
    return LedgerSettings(site, float(delta), accountant, float(budget))


def header_of(settings: LedgerSettings, created: str, key_id: str) -> dict[str, Any]:
    """The ledger's header: what it is fixed to, and the id of the key that seals it."""
    s = settings
    return dict(zip(HEADER_KEYS, (FORMAT, s.site, UNIT, s.delta, s.accountant, s.budget,
                                  created, key_id), strict=True))


def charge_record(event: PrivacyEvent, at: str) -> dict[str, Any]:
    return {"kind": "charge", **event.to_dict(), "charged_at": at}


def release_record(key: EventKey, at: str) -> dict[str, Any]:
    run_id, server_round, mechanism, label = key
    return {"kind": "release", "run_id": run_id, "round": server_round,
            "mechanism": mechanism, "label": label, "released_at": at}


def budget_record(budget: float, at: str) -> dict[str, Any]:
    return {"kind": "budget", "budget": budget, "set_at": at}


def _head(header: dict[str, Any], records: Sequence[dict[str, Any]]) -> str:
    """The digest the next record links to: of the last record, or of the header."""
    return ledger_seal.digest(records[-1] if records else header)


def linked(header: dict[str, Any], records: Sequence[dict[str, Any]],
           record: dict[str, Any]) -> dict[str, Any]:
    """``record`` chained after ``records``."""
    return {**record, "prev": _head(header, records)}


def write_document(path: Path, key: bytes, header: dict[str, Any],
                   records: Sequence[dict[str, Any]]) -> None:
    """Write the ledger atomically, sealing the head of its records (each one ``linked``
    after a verified chain, so only the last needs digesting)."""
    head = _head(header, records)
    document = {**header, "records": list(records), "head": head,
                "seal": ledger_seal.seal(key, head)}
    atomic_write_text(path, json.dumps(document, indent=2, ensure_ascii=False,
                                       allow_nan=False) + "\n")


def read_document(path: Path, key_path: Path
                  ) -> tuple[dict[str, Any], tuple[dict[str, Any], ...], bytes]:
    """The header, records and key of the ledger at ``path`` once its format, key, chain
    and seal check out; LedgerError naming the file and how to restore it otherwise."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LedgerError(f"cannot read ledger {path}: {exc}; {RESTORE}") from exc
    if isinstance(document, dict) and document.get("format") == OLD_FORMAT:
        raise LedgerError(
            f"ledger {path} is a {OLD_FORMAT} file, written before ledgers were sealed: check "
            f"its charges (privfl ledger cannot print it yet), then seal it as it stands once "
            f"with: privfl ledger upgrade {path}")
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise _altered(path, f'it is not a {FORMAT} file (its "format" must be {FORMAT!r})')
    key = ledger_seal.read_key(key_path)
    header = {name: document.get(name) for name in HEADER_KEYS}
    records = document.get("records")
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise _altered(path, '"records" must be a list of objects')
    if header["key_id"] != ledger_seal.key_id(key):
        raise LedgerError(
            f"ledger {path} was sealed with key {header['key_id']!r}, not with the key "
            f"{ledger_seal.key_id(key)!r} given: point the site at the key created with this "
            f"ledger, or {RESTORE}")
    try:
        head = ledger_seal.chain_head(header, records)
        ledger_seal.check_seal(key, head, document.get("seal"))
    except LedgerError as exc:
        raise _altered(path, str(exc)) from exc
    return header, tuple(records), key


def _altered(path: Path, problem: str) -> LedgerError:
    return LedgerError(f"ledger {path} was altered: {problem}; {RESTORE}")


def replay(header: dict[str, Any], records: Sequence[dict[str, Any]]
           ) -> tuple[LedgerSettings, list[Charge]]:
    """The settings (the budget as last set) and the charges, with their release times,
    of a verified ledger; LedgerError (or ConfigError for bad settings) if malformed."""
    if header["unit"] != UNIT:
        raise LedgerError(f'"unit" must be {UNIT!r}, got {header["unit"]!r}')
    settings = checked_settings(header["site"], header["delta"], header["accountant"],
                                 header["budget"])
    if not isinstance(header["created"], str):
        raise LedgerError('"created" must be a string')
    charges: list[Charge] = []
    released: dict[tuple, str] = {}
    charged: set[tuple] = set()
    for number, record in enumerate(records, start=1):
        kind = record.get("kind")
        if kind == "charge":
            charges.append(_charge(number, record))
            charged.add(charges[-1][0].key())
        elif kind == "release":
            key = (record.get("run_id"), record.get("round"), record.get("mechanism"),
                   record.get("label"))
            if key in released or key not in charged:
                raise LedgerError(f"record {number} releases {key!r}, which was not charged "
                                  "before it or was released already")
            released[key] = str(record.get("released_at"))
        elif kind == "budget":
            settings = checked_settings(settings.site, settings.delta, settings.accountant,
                                        record.get("budget"))
        else:
            raise LedgerError(f"record {number} has an unknown kind {kind!r}")
    return settings, [(event, at, released.get(event.key())) for event, at, _ in charges]


def _charge(number: int, record: dict[str, Any]) -> Charge:
    charged_at = record.get("charged_at")
    if not isinstance(charged_at, str):
        raise LedgerError(f'record {number}: a charge needs a "charged_at" time')
    fields = {k: v for k, v in record.items() if k not in ("kind", "prev", "charged_at")}
    return event_from_dict(fields), charged_at, None


def upgrade(path: Path, key_path: Path) -> int:
    """Seal an unsealed (privfl-ledger/1) ledger as it stands with a new key; returns the
    number of charges carried over. The caller holds the ledger's lock."""
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LedgerError(f"cannot read ledger {path}: {exc}") from exc
    if not isinstance(old, dict) or old.get("format") != OLD_FORMAT:
        raise LedgerError(f"ledger {path} is not a {OLD_FORMAT} file: nothing to upgrade")
    if key_path.exists():
        raise LedgerError(f"{key_path} exists already; move it away to seal {path} with a "
                          "new key")
    events, created = old.get("events"), old.get("created")
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        raise LedgerError(f'ledger {path}: "events" must be a list of objects')
    try:
        settings = checked_settings(old.get("site"), old.get("delta"), old.get("accountant"),
                                    old.get("budget"))
    except ConfigError as exc:
        raise LedgerError(f"ledger {path} cannot be upgraded: {exc}") from exc
    if not isinstance(created, str):
        raise LedgerError(f'ledger {path} cannot be upgraded: "created" must be a string')
    key = ledger_seal.create_key(key_path)
    header = header_of(settings, created, ledger_seal.key_id(key))
    records: list[dict[str, Any]] = []
    for item in events:
        fields = {k: v for k, v in item.items() if k != "released_at"}
        records.append(linked(header, records, {"kind": "charge", **fields}))
        if item.get("released_at"):
            event = event_from_dict({k: v for k, v in fields.items() if k != "charged_at"})
            records.append(linked(header, records,
                                  release_record(event.key(), item["released_at"])))
    try:
        replay(header, records)
    except (LedgerError, ConfigError) as exc:
        key_path.unlink()
        raise LedgerError(f"ledger {path} cannot be upgraded: {exc}") from exc
    write_document(path, key, header, records)
    return len(events)
