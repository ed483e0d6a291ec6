"""The per-site privacy ledger: one JSON file recording every charge against a site's budget.

Charges are write-ahead: a round is charged, under an exclusive file lock and with an
atomic write, before it trains. A crash after the charge leaves the round counted though
it never ran (over-count); nothing can train without having been charged (no under-count).
"""

import dataclasses
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from conf.errors import ConfigError
from privacy.accountants import check_accountant, check_delta, epsilon_of
from privacy.atomic import atomic_write_text, file_lock
from privacy.errors import BudgetExceededError, LedgerError
from privacy.events import PrivacyEvent, event_from_dict

FORMAT = "privfl-ledger/1"
UNIT = "record"


@dataclass(frozen=True)
class LedgerSettings:
    """What a ledger is fixed to at creation."""

    site: str
    delta: float
    accountant: str
    budget: float


@dataclass(frozen=True)
class LedgerEntry:
    """One charge: the event, when it was written, and when its result left the site."""

    event: PrivacyEvent
    charged_at: str
    released_at: str | None = None


class Ledger:
    """A site's privacy ledger file; ``open`` to charge, ``load`` to read."""

    def __init__(
        self,
        path: Path,
        settings: LedgerSettings,
        created: str,
        entries: tuple[LedgerEntry, ...],
        *,
        writable: bool,
    ) -> None:
        self._path = path
        self._settings = settings
        self._created = created
        self._entries = entries
        self._writable = writable
        self._spent: float | None = None

    @classmethod
    def open(
        cls, path: str | Path, *, site: str, delta: float, accountant: str, budget: float
    ) -> "Ledger":
        """Open the site's ledger for charging, creating it if missing.

        LedgerError if an existing file was created with another site, δ, accountant or budget.
        """
        settings = _checked_settings(site, delta, accountant, budget)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with file_lock(path):
            if not path.exists():
                ledger = cls(path, settings, _now(), (), writable=True)
                ledger._write(ledger._entries)
                return ledger
            ledger = cls._read(path, writable=True)
        ledger._refuse_other_settings(settings)
        return ledger

    @classmethod
    def load(cls, path: str | Path) -> "Ledger":
        """Read a ledger without the site's settings (to print it); it cannot charge."""
        return cls._read(Path(path), writable=False)

    @property
    def path(self) -> Path:
        return self._path

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
        return self._created

    @property
    def entries(self) -> tuple[LedgerEntry, ...]:
        """Charges in the order they were made."""
        return self._entries

    @property
    def events(self) -> tuple[PrivacyEvent, ...]:
        return tuple(entry.event for entry in self._entries)

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

        Under the file lock, re-reads the file (another process may have charged). An event
        with the same key but other parameters is refused (LedgerError), and so is one that
        would pass the budget (BudgetExceededError); neither writes anything. Otherwise the
        event is appended and the file replaced atomically.
        """
        if not self._writable:
            raise LedgerError(
                f"ledger {self.path} was loaded read-only; open it with Ledger.open and the "
                "site's settings to charge it"
            )
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
            entries = (*self._entries, LedgerEntry(event, _now()))
            self._write(entries)
            self._entries = entries
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
        with file_lock(self.path):
            self._sync_from_disk()
            entries = tuple(
                dataclasses.replace(e, released_at=e.released_at or _now())
                if e.event.key() == event.key() else e
                for e in self._entries
            )
            if not any(e.event.key() == event.key() for e in entries):
                raise LedgerError(f"ledger {self.path}: {_describe([event])} was never charged")
            self._write(entries)
            self._entries = entries

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
        disk = Ledger._read(self.path, writable=False)
        if disk._settings != self._settings:
            raise LedgerError(
                f"ledger {self.path} was replaced by one with other settings "
                f"({disk._settings}) while in use; check which ledger file this site uses"
            )
        if disk._entries != self._entries:
            self._entries = disk._entries
            self._spent = None

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
                f'{self.budget!r}, or, to change it deliberately, edit "budget" in the file'
            )

    def _write(self, entries: tuple[LedgerEntry, ...]) -> None:
        s = self._settings
        document = {
            "format": FORMAT,
            "site": s.site,
            "unit": UNIT,
            "delta": s.delta,
            "accountant": s.accountant,
            "budget": s.budget,
            "created": self._created,
            "events": [_entry_dict(e) for e in entries],
        }
        atomic_write_text(self.path, json.dumps(document, indent=2, allow_nan=False) + "\n")

    @classmethod
    def _read(cls, path: Path, *, writable: bool) -> "Ledger":
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise LedgerError(f"no ledger file at {path}; check the site's ledger path") from exc
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise LedgerError(f"cannot read ledger {path}: {exc}; {_RESTORE}") from exc
        try:
            settings, created, entries = _parse(document)
        except LedgerError as exc:
            raise LedgerError(f"ledger {path}: {exc}") from exc
        return cls(path, settings, created, entries, writable=writable)


def _entry_dict(entry: LedgerEntry) -> dict[str, Any]:
    released = {"released_at": entry.released_at} if entry.released_at else {}
    return {**entry.event.to_dict(), "charged_at": entry.charged_at, **released}


_RESTORE = "restore the file from a backup (do not delete it: its charges would be forgotten)"


def _corrupt(problem: str) -> LedgerError:
    return LedgerError(f"corrupt ledger, {problem}; {_RESTORE}")


def _parse(document: Any) -> tuple[LedgerSettings, str, tuple[LedgerEntry, ...]]:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise _corrupt(f'not a {FORMAT} file (its "format" must be {FORMAT!r})')
    if document.get("unit") != UNIT:
        raise _corrupt(f'"unit" must be {UNIT!r}, got {document.get("unit")!r}')
    try:
        settings = _checked_settings(
            document.get("site"),
            document.get("delta"),
            document.get("accountant"),
            document.get("budget"),
        )
    except ConfigError as exc:
        raise _corrupt(str(exc)) from exc
    created, events = document.get("created"), document.get("events")
    if not isinstance(created, str) or not isinstance(events, list):
        raise _corrupt('"created" must be a string and "events" a list')
    entries = []
    for item in events:
        if not isinstance(item, dict) or not isinstance(item.get("charged_at"), str):
            raise _corrupt(f'each event must be an object with a "charged_at" time: {item!r}')
        fields = {k: v for k, v in item.items() if k not in ("charged_at", "released_at")}
        entries.append(LedgerEntry(event_from_dict(fields), item["charged_at"],
                                   item.get("released_at")))
    return settings, created, tuple(entries)


def _checked_settings(site: Any, delta: Any, accountant: Any, budget: Any) -> LedgerSettings:
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
