"""The one write-ahead release path (privacy.release): charge before, mark released
after, a second release refused, the per-run ceiling checked before anything is written."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from privacy.errors import DeltaTooLargeError, RoundAlreadyReleasedError
from privacy.events import DpSgdEvent
from privacy.ledger import Ledger
from privacy.release import Release, RunCeilingExceededError, check_delta

CRASH_POINTS = ("before-charge", "after-charge", "after-release", "none")


def _event(round_: int, run: str = "run-1") -> DpSgdEvent:
    return DpSgdEvent(run_id=run, round=round_, noise_multiplier=1.1, sample_rate=0.05,
                      steps=20)


def _open(path: Path) -> Ledger:
    """The ledger as a freshly started site process sees it."""
    return Ledger.open(path, site="s", delta=1e-5, accountant="rdp", budget=1000.0, create=True)


class Crash(Exception):
    """The site's process dies here."""


def _attempt(path: Path, round_: int, crash: str, sent: list[int]) -> None:
    """One delivery of round ``round_``: charge, run the mechanism, mark, send."""
    if crash == "before-charge":
        raise Crash
    release = Release.charge(_open(path), _event(round_), already="sent already")
    if crash == "after-charge":  # e.g. training died half-way: nothing left the site
        raise Crash
    release.released()
    if crash == "after-release":  # marked, then died before the reply went out
        raise Crash
    sent.append(round_)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 4), st.sampled_from(CRASH_POINTS)), max_size=14))
def test_no_interleaving_of_crashes_under_or_double_counts(attempts) -> None:
    """Over any sequence of deliveries (retries included) and crash points: every round
    whose mechanism started is charged, exactly once; no round's result is sent twice;
    and every sent round is marked released."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ledger.json"
        sent: list[int] = []
        started: set[int] = set()
        for round_, crash in attempts:
            try:
                _attempt(path, round_, crash, sent)
            except Crash:
                pass
            except RoundAlreadyReleasedError:
                assert _open(path).is_released(_event(round_))
            if crash != "before-charge":
                started.add(round_)
        ledger = _open(path)
        keys = [e.key() for e in ledger.events]
        assert len(keys) == len(set(keys))  # never double-counted
        assert {e.round for e in ledger.events} == started  # never under-counted
        assert len(sent) == len(set(sent))  # one release per charge
        assert all(ledger.is_released(_event(r)) for r in sent)
        expected = _open(Path(folder) / "fresh.json")
        for round_ in sorted(started):
            expected.charge(_event(round_))
        assert ledger.spent() == pytest.approx(expected.spent())


def test_the_run_ceiling_is_checked_before_anything_is_written(tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    ledger = _open(path)
    before = path.read_bytes()
    one = Release.charge(ledger, _event(1), already="-")
    one.released()
    ceiling = ledger.run_epsilon("run-1") * 1.1
    charged = path.read_bytes()
    with pytest.raises(RunCeilingExceededError, match=r"over the site's max-epsilon-per-run"):
        Release.charge(ledger, _event(2), planned=[_event(3)], already="-",
                       max_run_epsilon=ceiling)
    assert path.read_bytes() == charged != before
    Release.charge(ledger, _event(2, run="run-2"), already="-", max_run_epsilon=ceiling)


def test_a_second_release_of_one_event_is_refused(tmp_path: Path) -> None:
    ledger = _open(tmp_path / "ledger.json")
    Release.charge(ledger, _event(1), already="-").released()
    with pytest.raises(RoundAlreadyReleasedError, match="second release"):
        Release.charge(ledger, _event(1), already="a second release for one charge")
    assert len(ledger.events) == 1


def test_delta_must_be_below_one_over_the_rows() -> None:
    check_delta("s", 1e-3, 999, "delta")
    with pytest.raises(DeltaTooLargeError, match=r"site s: ledger.delta=0.001 is not below "
                                                 r"1/\(its 1000 training records\)"):
        check_delta("s", 1e-3, 1000, "ledger.delta")
