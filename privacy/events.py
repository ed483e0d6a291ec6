"""Privacy events: one record per release of information about a site's records.

Each event names its ``mechanism``; the registry maps that name to the event class so
that a ledger file can be read back (``event_from_dict``). New mechanisms (e.g. DP
synthetic-data releases) register a class here and describe themselves to the
accountant as subsampled-Gaussian history entries ``(noise_multiplier, sample_rate, steps)``.
"""

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from privacy.errors import LedgerError

HistoryEntry = tuple[float, float, int]
EventKey = tuple[str, int, str, str]


@dataclass(frozen=True)
class PrivacyEvent:
    """Base class: a charge made in ``round`` of run ``run_id`` (round 0: outside rounds)."""

    mechanism: ClassVar[str]
    run_id: str
    round: int

    def __post_init__(self) -> None:
        if not isinstance(self.run_id, str) or not self.run_id:
            raise ValueError(f"run_id must be a non-empty string, got {self.run_id!r}")
        _check_int(self.round, "round", minimum=0)

    def accountant_history(self) -> list[HistoryEntry]:
        """Opacus accountant history entries (noise_multiplier, sample_rate, steps)."""
        raise NotImplementedError

    def key(self) -> EventKey:
        """Idempotency key (run_id, round, mechanism, label): one charge per key."""
        return (self.run_id, self.round, self.mechanism, "")

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict, including ``mechanism``; inverse of ``event_from_dict``."""
        return {"mechanism": self.mechanism, **dataclasses.asdict(self)}


_EVENT_TYPES: dict[str, type[PrivacyEvent]] = {}


def register_event(cls: type[PrivacyEvent]) -> type[PrivacyEvent]:
    """Class decorator: make ``cls`` readable from ledger files under ``cls.mechanism``."""
    if cls.mechanism in _EVENT_TYPES:
        raise ValueError(f"a privacy event for mechanism {cls.mechanism!r} is already registered")
    _EVENT_TYPES[cls.mechanism] = cls
    return cls


def event_from_dict(data: Mapping[str, Any]) -> PrivacyEvent:
    """Rebuild an event from ``to_dict`` output; LedgerError if unknown or malformed."""
    mechanism = data.get("mechanism")
    cls = _EVENT_TYPES.get(mechanism) if isinstance(mechanism, str) else None
    if cls is None:
        raise LedgerError(
            f"unknown privacy mechanism {mechanism!r} (known: {', '.join(sorted(_EVENT_TYPES))});"
            " the ledger may have been written by a newer privfl: upgrade privfl to read it"
        )
    fields = {k: v for k, v in data.items() if k != "mechanism"}
    try:
        return cls(**fields)
    except (TypeError, ValueError) as exc:
        raise LedgerError(f"malformed {mechanism!r} event {dict(data)!r}: {exc}") from exc


@register_event
@dataclass(frozen=True)
class DpSgdEvent(PrivacyEvent):
    """DP-SGD local training: ``steps`` Poisson-sampled Gaussian steps at rate ``sample_rate``.

    ``seeded_noise`` marks a debug run whose noise came from a config seed
    (``reproducible=true``): its ε is counted, but the release is NOT private.
    """

    mechanism: ClassVar[str] = "dp_sgd"
    noise_multiplier: float
    sample_rate: float
    steps: int
    seeded_noise: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_noise_multiplier(self.noise_multiplier)
        _check_float(self.sample_rate, "sample_rate", lambda q: 0 < q <= 1, "in (0, 1]")
        _check_int(self.steps, "steps", minimum=1)

    def accountant_history(self) -> list[HistoryEntry]:
        return [(self.noise_multiplier, self.sample_rate, self.steps)]


@register_event
@dataclass(frozen=True)
class GaussianEvent(PrivacyEvent):
    """One Gaussian-mechanism release; ``noise_multiplier`` = noise std / L2 sensitivity.

    ``sample_rate`` < 1: the release used a random subset, each unit included with that
    probability (accounted as a Poisson-subsampled Gaussian).
    """

    mechanism: ClassVar[str] = "gaussian"
    noise_multiplier: float
    label: str
    sample_rate: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_noise_multiplier(self.noise_multiplier)
        _check_float(self.sample_rate, "sample_rate", lambda q: 0 < q <= 1, "in (0, 1]")
        if not isinstance(self.label, str) or not self.label:
            raise ValueError(f"label must say what was released, got {self.label!r}")

    def accountant_history(self) -> list[HistoryEntry]:
        return [(self.noise_multiplier, self.sample_rate, 1)]

    def key(self) -> EventKey:
        return (self.run_id, self.round, self.mechanism, self.label)


def _check_int(value: object, name: str, *, minimum: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def _check_float(value: object, name: str, ok: Callable[[float], bool], wanted: str) -> None:
    if (
        not isinstance(value, int | float)
        or isinstance(value, bool)
        or not math.isfinite(value)
        or not ok(value)
    ):
        raise ValueError(f"{name} must be a number {wanted}, got {value!r}")


def _check_noise_multiplier(value: object) -> None:
    _check_float(value, "noise_multiplier", lambda s: s > 0, "> 0")
