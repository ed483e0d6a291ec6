"""The per-site privacy ledger: one sealed JSON file recording every charge against a
site's budget.

Charges are write-ahead: a round is charged, under an exclusive file lock and with an
atomic write, before it trains. A crash after the charge leaves the round counted though
it never ran (over-count); nothing can train without having been charged (no under-count).

The file is an append-only history of records (a charge, a release mark, a budget
change), hash-chained and sealed with the site's ledger key (``privacy.ledger_seal``):
an edited, removed, reordered or cut-off record, a changed header or a deleted file is
refused with a message that says how to restore it. A ledger is created only
explicitly (:meth:`Ledger.create`, or ``open(create=True)`` where none ever existed).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from conf.errors import ConfigError
from privacy import ledger_seal
from privacy.accountants import epsilon_of
from privacy.atomic import file_lock
from privacy.errors import BudgetExceededError, LedgerError
from privacy.events import PrivacyEvent
from privacy.ledger_file import (
    RESTORE,
    LedgerSettings,
    budget_record,
    charge_record,
    checked_settings,
    header_of,
    linked,
    read_document,
    release_record,
    replay,
    write_document,
)


@dataclass(frozen=True)
class LedgerEntry:
    """One charge: the event, when it was written, and when its result left the site."""

    event: PrivacyEvent
    charged_at: str
    released_at: str | None = None


CREATE_HINT = ("create a site's ledger once, explicitly: privfl ledger init PATH --site NAME "
               "--budget EPS --delta DELTA (docs/privacy.md, \"The ledger\")")


class Ledger:
    """A site's privacy ledger file; ``create`` once, ``open`` to charge, ``load`` to read."""

    def __init__(self, path: Path, key_path: Path, key: bytes, header: dict[str, Any],
                 records: tuple[dict[str, Any], ...], *, writable: bool) -> None:
        self._path = path
        self._key_path = key_path
        self._key = key
        self._header = header
        self._writable = writable
        self._spent: float | None = None
        self._set_records(records)

    @classmethod
    def create(cls, path: str | Path, *, site: str, delta: float, accountant: str,
               budget: float, key_path: str | Path | None = None) -> Ledger:
        """Create the site's ledger and its key; LedgerError if either exists already."""
        settings = checked_settings(site, delta, accountant, budget)
        path, key_path = _paths(path, key_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with file_lock(path):
            return cls._create(path, key_path, settings)

    @classmethod
    def open(cls, path: str | Path, *, site: str, delta: float, accountant: str,
             budget: float, key_path: str | Path | None = None, create: bool = False
             ) -> Ledger:
        """Open the site's ledger for charging, after verifying its chain and seal.

        ``create``: create it if neither the ledger nor its key exists (a first start,
        said explicitly). LedgerError if it is missing (or was deleted: its key is still
        there), altered, or created with another site, δ, accountant or budget.
        """
        settings = checked_settings(site, delta, accountant, budget)
        path, key_path = _paths(path, key_path)
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        elif not path.exists():
            raise _missing(path, key_path)
        with file_lock(path):
            if create and cls.never_existed(path, key_path):
                return cls._create(path, key_path, settings)
            ledger = cls._read(path, key_path, writable=True)
        ledger._refuse_other_settings(settings)
        return ledger

    @staticmethod
    def never_existed(path: str | Path, key_path: str | Path | None = None) -> bool:
        """True when neither the ledger nor its key is there: only then may one be created
        (a key without its ledger shows a ledger that was deleted)."""
        path, key_path = _paths(path, key_path)
        return not path.exists() and not key_path.exists()

    @classmethod
    def load(cls, path: str | Path, key_path: str | Path | None = None) -> Ledger:
        """Read and verify a ledger without the site's settings (to print it); it cannot
        charge."""
        path, key_path = _paths(path, key_path)
        return cls._read(path, key_path, writable=False)

    @property
    def path(self) -> Path:
        return self._path

    @property
    def key_path(self) -> Path:
        return self._key_path

    @property
    def site(self) -> str:
        return self._settings.site

    @property
    def delta(self) -> float:
        return self._settings.delta

    @property
    def accountant(self) -> str:
        return self._settings.accountant

    @property
    def budget(self) -> float:
        """The site's lifetime ε budget."""
        return self._settings.budget

    @property
    def created(self) -> str:
        return str(self._header["created"])

    @property
    def entries(self) -> tuple[LedgerEntry, ...]:
        """Charges in the order they were made."""
        return self._entries

    @property
    def events(self) -> tuple[PrivacyEvent, ...]:
        return tuple(entry.event for entry in self._entries)

    def unreleased(self) -> tuple[LedgerEntry, ...]:
        """Charges whose result never left the site (a crash or a refusal after the
        charge); they count in ε like every charge."""
        return tuple(entry for entry in self._entries if entry.released_at is None)

    def spent(self) -> float:
        """ε of every charge so far."""
        if self._spent is None:
            self._spent = self._epsilon(self.events)
        return self._spent

    def remaining(self) -> float:
        """Budget left, never below 0."""
        return max(0.0, self.budget - self.spent())

    def run_epsilon(self, run_id: str) -> float:
        """ε of the charges of run ``run_id`` alone."""
        return self._epsilon(e for e in self.events if e.run_id == run_id)

    def run_epsilon_with(self, run_id: str, extra_events: Iterable[PrivacyEvent]) -> float:
        """ε of run ``run_id`` after charging ``extra_events`` (its events among them)."""
        new = [e for e in _new_events(self.events, extra_events) if e.run_id == run_id]
        return self._epsilon([*(e for e in self.events if e.run_id == run_id), *new])

    def epsilon_with(self, extra_events: Iterable[PrivacyEvent]) -> float:
        """ε after charging ``extra_events``; events already charged (same key) count once."""
        new = _new_events(self.events, extra_events)
        return self.spent() if not new else self._epsilon([*self.events, *new])

    def check_affordable(self, planned_events: Iterable[PrivacyEvent]) -> None:
        """BudgetExceededError if charging ``planned_events`` would pass the budget.

        Meant for all planned rounds of a run before its first round; writes nothing.
        Planned events that are already charged (a resumed run) are not counted twice.
        """
        planned = _new_events(self.events, planned_events)
        if not planned:
            return
        eps = self.epsilon_with(planned)
        if eps > self.budget:
            what = f"charging {len(planned)} planned event(s) ({_describe(planned)})"
            raise self._exceeded(eps, what)

    def charge(self, event: PrivacyEvent) -> bool:
        """Record ``event`` before it happens; False if it was charged already (a retry).

        Under the file lock, re-reads and re-verifies the file (another process may have
        charged). An event with the same key but other parameters is refused
        (LedgerError), and so is one that would pass the budget (BudgetExceededError);
        neither writes anything. Otherwise the charge is appended and the file replaced
        atomically.
        """
        self._check_writable()
        with file_lock(self.path):
            self._sync_from_disk()
            same_key = [e.event for e in self._entries if e.event.key() == event.key()]
            if same_key and same_key[0] != event:
                raise LedgerError(
                    f"ledger {self.path} already charged {same_key[0]!r}; a retry must repeat "
                    f"it exactly, got {event!r}: rerun the round with the run's original settings"
                )
            if same_key:
                return False
            eps = self._epsilon([*self.events, event])
            if eps > self.budget:
                raise self._exceeded(eps, f"charging {_describe([event])}")
            self._append(charge_record(event, _now()))
            self._spent = eps
        return True

    def is_released(self, event: PrivacyEvent) -> bool:
        """True if the result of ``event`` was marked as sent (see :meth:`mark_released`)."""
        return any(e.event.key() == event.key() and e.released_at for e in self._entries)

    def mark_released(self, event: PrivacyEvent) -> None:
        """Record that the result of the charged ``event`` is about to leave the site.

        Written after training and before the reply is sent: a retry of a released round
        would be a second release for one charge, so callers refuse it; a retry of a round
        that crashed before this mark released nothing and may run again.
        """
        self._check_writable()
        with file_lock(self.path):
            self._sync_from_disk()
            if not any(e.event.key() == event.key() for e in self._entries):
                raise LedgerError(f"ledger {self.path}: {_describe([event])} was never charged")
            if not self.is_released(event):
                self._append(release_record(event.key(), _now()))

    def set_budget(self, budget: float) -> None:
        """Change the site's lifetime budget (the site's own decision), as a sealed record."""
        self._check_writable()
        settings = checked_settings(self.site, self.delta, self.accountant, budget)
        with file_lock(self.path):
            self._sync_from_disk()
            self._append(budget_record(settings.budget, _now()))

    def _set_records(self, records: tuple[dict[str, Any], ...]) -> None:
        try:
            self._settings, entries = replay(self._header, records)
        except (LedgerError, ConfigError) as exc:
            raise LedgerError(f"ledger {self._path}: {exc}; {RESTORE}") from exc
        self._records = records
        self._entries = tuple(LedgerEntry(*entry) for entry in entries)
        self._spent = None

    def _append(self, record: dict[str, Any]) -> None:
        records = (*self._records, linked(self._header, self._records, record))
        write_document(self.path, self._key, self._header, records)
        self._set_records(records)

    def _check_writable(self) -> None:
        if not self._writable:
            raise LedgerError(
                f"ledger {self.path} was loaded read-only; open it with Ledger.open and the "
                "site's settings to charge it"
            )

    def _epsilon(self, events: Iterable[PrivacyEvent]) -> float:
        return epsilon_of(events, self.delta, self.accountant)

    def _exceeded(self, requested: float, what: str) -> BudgetExceededError:
        return BudgetExceededError(
            site=self.site,
            accountant=self.accountant,
            delta=self.delta,
            spent=self.spent(),
            requested=requested,
            budget=self.budget,
            what=what,
        )

    def _sync_from_disk(self) -> None:
        disk = Ledger._read(self.path, self.key_path, writable=False)
        if disk._header != self._header:
            raise LedgerError(
                f"ledger {self.path} was replaced by another ledger while in use; check "
                "which ledger file this site uses"
            )
        if disk._records != self._records:
            self._set_records(disk._records)

    def check_settings(self, *, site: str, delta: float, budget: float) -> None:
        """LedgerError unless the ledger was made for this site, δ and budget (a site
        checking its ledger before it starts; the run's accountant is checked on open)."""
        self._refuse_other_settings(checked_settings(site, delta, self.accountant, budget))

    def _refuse_other_settings(self, wanted: LedgerSettings) -> None:
        for name, label in (("site", "site"), ("delta", "δ"), ("accountant", "accountant")):
            stored, asked = getattr(self._settings, name), getattr(wanted, name)
            if stored != asked:
                raise LedgerError(
                    f"ledger {self.path} was created with {label}={stored!r}, but this run asks "
                    f"for {label}={asked!r}; a site's {label} is fixed when its ledger is created:"
                    f" use {label}={stored!r} for this site"
                )
        if self.budget != wanted.budget:
            raise LedgerError(
                f"ledger {self.path} holds the lifetime budget ε={self.budget!r}, but the site's "
                f"settings say ε={wanted.budget!r}; set the site's budget back to "
                f"{self.budget!r}, or, to change it deliberately, run privfl ledger set-budget "
                f"{self.path} {wanted.budget!r}"
            )

    @classmethod
    def _create(cls, path: Path, key_path: Path, settings: LedgerSettings) -> Ledger:
        if path.exists():
            raise LedgerError(f"ledger {path} exists already: a site has one ledger for life "
                              "(open it; never recreate it)")
        if key_path.exists():
            raise _missing(path, key_path)
        key = ledger_seal.create_key(key_path)
        header = header_of(settings, _now(), ledger_seal.key_id(key))
        write_document(path, key, header, ())
        return cls(path, key_path, key, header, (), writable=True)

    @classmethod
    def _read(cls, path: Path, key_path: Path, *, writable: bool) -> Ledger:
        if not path.exists():
            raise _missing(path, key_path)
        header, records, key = read_document(path, key_path)
        return cls(path, key_path, key, header, records, writable=writable)


def _paths(path: str | Path, key_path: str | Path | None) -> tuple[Path, Path]:
    path = Path(path)
    return path, Path(key_path) if key_path else ledger_seal.default_key_path(path)


def _missing(path: Path, key_path: Path) -> LedgerError:
    if key_path.exists():
        return LedgerError(f"ledger {path} is missing but its key {key_path} exists: the "
                           f"ledger was deleted or moved; {RESTORE}")
    return LedgerError(f"no ledger at {path}: {CREATE_HINT}")


def _new_events(
    charged: Iterable[PrivacyEvent], events: Iterable[PrivacyEvent]
) -> list[PrivacyEvent]:
    """``events`` minus those whose key is charged already or repeated."""
    seen = {e.key() for e in charged}
    new = []
    for event in events:
        if event.key() not in seen:
            seen.add(event.key())
            new.append(event)
    return new


def _describe(events: list[PrivacyEvent]) -> str:
    runs = ", ".join(sorted({repr(e.run_id) for e in events}))
    rounds = sorted({e.round for e in events})
    span = f"round {rounds[0]}" if len(rounds) == 1 else f"rounds {rounds[0]}-{rounds[-1]}"
    mechanisms = "/".join(sorted({e.mechanism for e in events}))
    return f"{mechanisms} for run {runs}, {span}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
