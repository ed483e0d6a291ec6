"""privacy.events: event types, their accountant history, keys and the registry."""

from dataclasses import dataclass
from typing import ClassVar

import pytest

from privacy import events
from privacy.errors import LedgerError
from privacy.events import (
    DpSgdEvent,
    GaussianEvent,
    HistoryEntry,
    PrivacyEvent,
    event_from_dict,
    register_event,
)


def test_older_dp_sgd_events_without_seeded_noise_still_load() -> None:
    old = {"mechanism": "dp_sgd", "run_id": "r", "round": 1, "noise_multiplier": 1.0,
           "sample_rate": 0.1, "steps": 5}
    assert event_from_dict(old).seeded_noise is False


def test_dp_sgd_event_history_dict_and_round_trip() -> None:
    event = DpSgdEvent(run_id="r1", round=3, noise_multiplier=1.1, sample_rate=0.14, steps=7)
    assert event.accountant_history() == [(1.1, 0.14, 7)]
    assert event.to_dict() == {
        "mechanism": "dp_sgd",
        "run_id": "r1",
        "round": 3,
        "noise_multiplier": 1.1,
        "sample_rate": 0.14,
        "steps": 7,
        "seeded_noise": False,
    }
    assert event_from_dict(event.to_dict()) == event
    assert event.key() == ("r1", 3, "dp_sgd", "")


def test_gaussian_event_is_one_unsampled_release_keyed_by_label() -> None:
    event = GaussianEvent(run_id="r1", round=0, noise_multiplier=4.0, label="row count")
    assert event.accountant_history() == [(4.0, 1.0, 1)]
    assert event.to_dict()["mechanism"] == "gaussian"
    assert event_from_dict(event.to_dict()) == event
    assert event.key() == ("r1", 0, "gaussian", "row count")
    other = GaussianEvent(run_id="r1", round=0, noise_multiplier=4.0, label="column means")
    assert other.key() != event.key()


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"run_id": "", "round": 1}, "run_id"),
        ({"run_id": "r", "round": -1}, "round"),
        ({"run_id": "r", "round": True}, "round"),
        ({"run_id": "r", "round": 1, "noise_multiplier": 0.0}, "noise_multiplier"),
        ({"run_id": "r", "round": 1, "noise_multiplier": float("nan")}, "noise_multiplier"),
        ({"run_id": "r", "round": 1, "sample_rate": 1.5}, "sample_rate"),
        ({"run_id": "r", "round": 1, "sample_rate": 0.0}, "sample_rate"),
        ({"run_id": "r", "round": 1, "steps": 0}, "steps"),
        ({"run_id": "r", "round": 1, "steps": 2.0}, "steps"),
    ],
)
def test_invalid_dp_sgd_event_names_the_field(kwargs: dict, named: str) -> None:
    fields = {"noise_multiplier": 1.0, "sample_rate": 0.1, "steps": 5, **kwargs}
    with pytest.raises(ValueError, match=named):
        DpSgdEvent(**fields)


def test_gaussian_event_needs_a_label() -> None:
    with pytest.raises(ValueError, match="label"):
        GaussianEvent(run_id="r", round=0, noise_multiplier=1.0, label="")


def test_unknown_mechanism_names_it() -> None:
    with pytest.raises(LedgerError, match=r"'dp_synth'.*known: dp_sgd, gaussian.*upgrade"):
        event_from_dict({"mechanism": "dp_synth", "run_id": "r", "round": 0})
    with pytest.raises(LedgerError, match="None"):
        event_from_dict({"run_id": "r", "round": 0})


@pytest.mark.parametrize(
    "data",
    [
        {"mechanism": "dp_sgd", "run_id": "r", "round": 1, "noise_multiplier": 1.0},
        {
            "mechanism": "dp_sgd",
            "run_id": "r",
            "round": 1,
            "noise_multiplier": 1.0,
            "sample_rate": 0.1,
            "steps": 5,
            "extra": 1,
        },
        {
            "mechanism": "dp_sgd",
            "run_id": "r",
            "round": 1,
            "noise_multiplier": "1.0",
            "sample_rate": 0.1,
            "steps": 5,
        },
    ],
)
def test_malformed_event_dict_is_a_ledger_error(data: dict) -> None:
    with pytest.raises(LedgerError, match="malformed 'dp_sgd' event"):
        event_from_dict(data)


def test_a_new_mechanism_can_register(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(events, "_EVENT_TYPES", dict(events._EVENT_TYPES))

    @register_event
    @dataclass(frozen=True)
    class TwoMarginals(PrivacyEvent):
        mechanism: ClassVar[str] = "two_marginals"
        noise_multiplier: float

        def accountant_history(self) -> list[HistoryEntry]:
            return [(self.noise_multiplier, 1.0, 2)]

    event = TwoMarginals(run_id="s", round=0, noise_multiplier=3.0)
    assert event_from_dict(event.to_dict()) == event
    with pytest.raises(ValueError, match="already registered"):
        register_event(TwoMarginals)
