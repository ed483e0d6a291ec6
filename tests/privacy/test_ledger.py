"""privacy.ledger: the per-site ledger file, charges, refusals, crashes and concurrency."""

import contextlib
import json
import multiprocessing
import tempfile
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conf.errors import ConfigError
from privacy import atomic, ledger_file, ledger_seal
from privacy.accountants import calibrate_noise_multiplier, epsilon_of
from privacy.errors import BudgetExceededError, LedgerError
from privacy.events import DpSgdEvent, GaussianEvent, PrivacyEvent
from privacy.ledger import Ledger

DELTA = 1e-5
SITE = {"site": "hospital-a", "delta": DELTA, "accountant": "rdp", "budget": 8.0}


def _round(run: str, rnd: int, sigma: float = 1.2, q: float = 0.1, steps: int = 10) -> DpSgdEvent:
    return DpSgdEvent(run_id=run, round=rnd, noise_multiplier=sigma, sample_rate=q, steps=steps)


def _open(path: Path, **overrides: object) -> Ledger:
    return Ledger.open(path, **{**SITE, **overrides}, create=True)


# --- creating, opening, loading -------------------------------------------------------


def test_open_creates_the_file_with_parents(tmp_path: Path) -> None:
    path = tmp_path / "site" / "ledgers" / "ledger.json"
    ledger = _open(path)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["format"] == "privfl-ledger/2"
    assert {k: document[k] for k in ("site", "unit", "delta", "accountant", "budget")} == {
        "site": "hospital-a",
        "unit": "record",
        "delta": DELTA,
        "accountant": "rdp",
        "budget": 8.0,
    }
    assert document["records"] == []
    assert document["created"] == ledger.created
    key = path.with_name("ledger.json.key")
    assert ledger.key_path == key and key.stat().st_mode & 0o777 == 0o600
    assert path.stat().st_mode & 0o777 == 0o600
    assert document["key_id"] == ledger_seal.key_id(ledger_seal.read_key(key))
    assert (ledger.site, ledger.delta, ledger.accountant, ledger.budget) == (
        "hospital-a",
        DELTA,
        "rdp",
        8.0,
    )
    assert ledger.spent() == 0.0
    assert ledger.remaining() == 8.0
    assert ledger.events == ()


def test_reopen_keeps_charges(tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    first = _open(path)
    assert first.charge(_round("r1", 1))
    again = _open(path)
    assert again.events == (_round("r1", 1),)
    assert again.spent() == first.spent() > 0


def test_delta_mismatch_is_refused_naming_both_values(tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    _open(path)
    with pytest.raises(LedgerError) as info:
        _open(path, delta=1e-6)
    message = str(info.value)
    assert "δ=1e-05" in message and "δ=1e-06" in message
    assert str(path) in message
    assert "use δ=1e-05 for this site" in message


@pytest.mark.parametrize(
    ("overrides", "stored", "asked"),
    [
        ({"accountant": "prv"}, "accountant='rdp'", "accountant='prv'"),
        ({"site": "bank-b"}, "site='hospital-a'", "site='bank-b'"),
        ({"budget": 10.0}, "ε=8.0", "ε=10.0"),
    ],
)
def test_other_setting_mismatches_are_refused(
    tmp_path: Path, overrides: dict, stored: str, asked: str
) -> None:
    path = tmp_path / "ledger.json"
    _open(path)
    with pytest.raises(LedgerError) as info:
        _open(path, **overrides)
    assert stored in str(info.value) and asked in str(info.value)


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"accountant": "gdp"}, "allowed: rdp, prv"),
        ({"delta": 0.0}, "δ must be in"),
        ({"budget": 0.0}, "budget must be a positive ε"),
        ({"site": ""}, "site name"),
    ],
)
def test_invalid_settings_are_config_errors(tmp_path: Path, overrides: dict, named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        _open(tmp_path / "ledger.json", **overrides)
    assert not (tmp_path / "ledger.json").exists()


def test_load_missing_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "nope.json"
    with pytest.raises(LedgerError, match=f"no ledger at {path}: create a site's ledger once"):
        Ledger.load(path)
    with pytest.raises(LedgerError, match="privfl ledger init"):
        Ledger.open(path, **SITE)  # without create=True nothing is created
    assert not path.exists()


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("{not json", "cannot read ledger"),
        ('{"format": "other/1"}', "not a privfl-ledger/2 file"),
        ("[]", "not a privfl-ledger/2 file"),
    ],
)
def test_load_corrupt_file_names_the_path(tmp_path: Path, text: str, named: str) -> None:
    path = tmp_path / "ledger.json"
    _open(path)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LedgerError, match=named) as info:
        Ledger.load(path)
    assert str(path) in str(info.value)
    assert "restore the ledger and its key from the site's latest backup" in str(info.value)


def test_unknown_mechanism_in_a_sealed_file_names_it(tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    ledger = _open(path)
    header = {k: v for k, v in json.loads(path.read_text()).items()
              if k not in ("records", "head", "seal")}
    record = {"kind": "charge", "mechanism": "dp_synth", "run_id": "r", "round": 0,
              "charged_at": "2026-11-26"}
    key = ledger_seal.read_key(ledger.key_path)
    ledger_file.write_document(path, key, header, [ledger_file.linked(header, [], record)])
    with pytest.raises(LedgerError, match="unknown privacy mechanism 'dp_synth'") as info:
        _open(path)
    assert str(path) in str(info.value) and "upgrade privfl" in str(info.value)


def test_loaded_ledger_cannot_charge(tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    _open(path)
    with pytest.raises(LedgerError, match=r"read-only.*Ledger\.open"):
        Ledger.load(path).charge(_round("r1", 1))


def test_remaining_is_floored_at_zero(tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    ledger = _open(path)
    ledger.charge(_round("r1", 1))
    ledger.set_budget(0.01)  # the site lowers its budget below what it spent
    loaded = Ledger.load(path)
    assert loaded.spent() > loaded.budget == 0.01
    assert loaded.remaining() == 0.0
    with pytest.raises(BudgetExceededError):
        _open(path, budget=0.01).charge(_round("r1", 2))
    with pytest.raises(LedgerError, match="privfl ledger set-budget"):
        _open(path)  # the old budget: the site's settings must follow the ledger


# --- charging -------------------------------------------------------------------------


def test_charge_appends_with_time_and_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    ledger = _open(path)
    assert ledger.charge(_round("r1", 1)) is True
    written = path.read_bytes()
    assert ledger.charge(_round("r1", 1)) is False
    assert path.read_bytes() == written
    stored = json.loads(written)["records"]
    assert len(stored) == 1 and stored[0]["kind"] == "charge"
    assert stored[0]["mechanism"] == "dp_sgd"
    assert stored[0]["charged_at"] == ledger.entries[0].charged_at
    assert ledger.spent() == epsilon_of([_round("r1", 1)], DELTA, "rdp")


def test_retry_with_other_parameters_is_refused(tmp_path: Path) -> None:
    ledger = _open(tmp_path / "ledger.json")
    ledger.charge(_round("r1", 1, sigma=1.2))
    with pytest.raises(LedgerError, match="a retry must repeat it exactly"):
        ledger.charge(_round("r1", 1, sigma=0.9))
    assert ledger.events == (_round("r1", 1, sigma=1.2),)


def test_releases_with_different_labels_are_both_charged(tmp_path: Path) -> None:
    ledger = _open(tmp_path / "ledger.json")
    assert ledger.charge(GaussianEvent("r1", 0, 5.0, "row count"))
    assert ledger.charge(GaussianEvent("r1", 0, 5.0, "column means"))
    assert not ledger.charge(GaussianEvent("r1", 0, 5.0, "row count"))
    assert len(ledger.events) == 2


def test_over_budget_charge_raises_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    ledger = _open(path, budget=3.0)
    ledger.charge(_round("r1", 1))
    before, spent = path.read_bytes(), ledger.spent()
    greedy = _round("r1", 2, sigma=0.6, q=0.5, steps=50)
    with pytest.raises(BudgetExceededError) as info:
        ledger.charge(greedy)
    err = info.value
    assert err.spent == spent
    assert err.requested == epsilon_of([_round("r1", 1), greedy], DELTA, "rdp") > 3.0
    assert err.budget == 3.0
    assert "hospital-a" in str(err) and "round 2" in str(err) and "(rdp, δ=1e-05" in str(err)
    assert path.read_bytes() == before
    assert ledger.events == (_round("r1", 1),)


def test_charge_sees_other_writers(tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    first, second = _open(path), _open(path)
    assert first.charge(_round("r1", 1))
    assert second.charge(_round("r2", 1))
    assert second.events == (_round("r1", 1), _round("r2", 1))
    assert not first.charge(_round("r2", 1))
    assert first.events == second.events
    assert first.spent() == second.spent() == Ledger.load(path).spent()


def test_deleted_file_is_not_silently_recreated(tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    ledger = _open(path)
    path.unlink()
    with pytest.raises(LedgerError, match=r"is missing but its key .* exists: the ledger was "
                                          r"deleted or moved; restore"):
        ledger.charge(_round("r1", 1))
    with pytest.raises(LedgerError, match="deleted or moved"):
        _open(path)  # not even with create=True: its key shows a ledger existed
    assert not path.exists()


def test_run_epsilon_and_epsilon_with(tmp_path: Path) -> None:
    ledger = _open(tmp_path / "ledger.json")
    r1 = [_round("r1", 1), _round("r1", 2)]
    r2 = [_round("r2", 1, sigma=2.0)]
    for event in [*r1, *r2]:
        ledger.charge(event)
    assert ledger.run_epsilon("r1") == epsilon_of(r1, DELTA, "rdp")
    assert ledger.run_epsilon("r2") == epsilon_of(r2, DELTA, "rdp")
    assert ledger.run_epsilon("unknown") == 0.0
    extra = _round("r2", 2, sigma=2.0)
    assert ledger.epsilon_with([extra]) == epsilon_of([*r1, *r2, extra], DELTA, "rdp")
    assert ledger.epsilon_with([r1[0], extra, extra]) == ledger.epsilon_with([extra])
    assert ledger.epsilon_with([]) == ledger.spent()


def test_check_affordable_refuses_a_plan_without_writing(tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    ledger = _open(path, budget=4.0)
    plan = [_round("r1", i) for i in range(1, 11)]
    before = path.read_bytes()
    with pytest.raises(BudgetExceededError, match=r"10 planned event\(s\).*rounds 1-10") as info:
        ledger.check_affordable(plan)
    assert info.value.requested == epsilon_of(plan, DELTA, "rdp")
    assert path.read_bytes() == before
    ledger.check_affordable(plan[:2])


@pytest.mark.parametrize("accountant", ["rdp", "prv"])
def test_a_run_calibrated_to_the_budget_fits_exactly(tmp_path: Path, accountant: str) -> None:
    sigma = calibrate_noise_multiplier(3.0, DELTA, 0.14, 70, accountant)
    ledger = _open(tmp_path / "ledger.json", accountant=accountant, budget=3.0)
    plan = [_round("r1", i, sigma=sigma, q=0.14, steps=7) for i in range(1, 11)]
    ledger.check_affordable(plan)
    for event in plan[:4]:
        assert ledger.charge(event)
    ledger.check_affordable(plan)  # a resumed run: charged rounds are not counted twice
    for event in plan[4:]:
        assert ledger.charge(event)
    assert 3.0 - 0.01 <= ledger.spent() <= 3.0
    with pytest.raises(BudgetExceededError):
        ledger.charge(_round("r1", 11, sigma=sigma, q=0.14, steps=7))
    assert Ledger.load(ledger.path).spent() == ledger.spent()


# --- properties -----------------------------------------------------------------------

# σ and q where Opacus' RDP computation is fast (q=0.2 costs ~0.1 s per history entry).
SIGMAS = st.sampled_from([1.0, 2.0, 3.0])
RATES = st.sampled_from([0.01, 0.05])
ROUNDS = st.builds(
    DpSgdEvent,
    run_id=st.sampled_from(["r1", "r2"]),
    round=st.integers(1, 4),
    noise_multiplier=SIGMAS,
    sample_rate=RATES,
    steps=st.integers(1, 40),
)
RELEASES = st.builds(
    GaussianEvent,
    run_id=st.sampled_from(["r1", "r2"]),
    round=st.just(0),
    noise_multiplier=st.sampled_from([2.0, 5.0]),
    label=st.sampled_from(["row count", "column means"]),
)
ATTEMPTS = st.lists(st.one_of(ROUNDS, RELEASES), min_size=1, max_size=6)
PROPERTY_SETTINGS = settings(max_examples=20, deadline=None)


def _attempt(ledger: Ledger, event: PrivacyEvent) -> bool:
    """Charge like a site would: refusals are outcomes, not failures."""
    try:
        return ledger.charge(event)
    except (BudgetExceededError, LedgerError):
        return False


@PROPERTY_SETTINGS
@given(attempts=ATTEMPTS, budget=st.floats(0.5, 15.0))
def test_spent_never_exceeds_budget_and_refusals_write_nothing(
    attempts: list[PrivacyEvent], budget: float
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ledger.json"
        ledger = _open(path, budget=budget)
        for event in attempts:
            before, events_before = path.read_bytes(), ledger.events
            try:
                charged = ledger.charge(event)
            except (BudgetExceededError, LedgerError):
                charged = False
            if not charged:
                assert path.read_bytes() == before
                assert ledger.events == events_before
            assert ledger.spent() <= budget
            assert Ledger.load(path).spent() == ledger.spent()


@PROPERTY_SETTINGS
@given(
    rounds=st.lists(st.tuples(SIGMAS, RATES, st.integers(1, 30)), min_size=1, max_size=4),
    crashes=st.lists(st.sampled_from(["none", "after_charge", "during_write"]), max_size=4),
)
def test_a_crash_never_under_counts(
    rounds: list[tuple[float, float, int]], crashes: list[str]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ledger.json"
        trained: list[DpSgdEvent] = []
        crash_plan = iter(crashes)
        for number, (sigma, q, steps) in enumerate(rounds, start=1):
            event = _round("r1", number, sigma=sigma, q=q, steps=steps)
            while True:  # the site restarts the round after each crash
                ledger = _open(path, budget=1e6)
                crash = next(crash_plan, "none")
                dies_writing = (
                    mock.patch.object(atomic.os, "replace", side_effect=OSError("crash"))
                    if crash == "during_write"
                    else contextlib.nullcontext()
                )
                try:
                    with dies_writing:
                        ledger.charge(event)
                except OSError:
                    continue  # died while writing the charge
                if crash == "after_charge":
                    continue  # died before training
                trained.append(event)
                break
        reloaded = Ledger.load(path)
        assert reloaded.spent() >= epsilon_of(trained, DELTA, "rdp")
        assert reloaded.events == tuple(trained)


@PROPERTY_SETTINGS
@given(attempts=ATTEMPTS)
def test_reload_reproduces_spent_exactly(attempts: list[PrivacyEvent]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        ledger = _open(Path(folder) / "ledger.json", budget=1e6)
        for event in attempts:
            _attempt(ledger, event)
        reloaded = Ledger.load(ledger.path)
        assert reloaded.events == ledger.events
        assert reloaded.spent() == ledger.spent()
        assert reloaded.spent() == epsilon_of(ledger.events, DELTA, "rdp")


@PROPERTY_SETTINGS
@given(event=st.one_of(ROUNDS, RELEASES), repeats=st.integers(2, 4))
def test_the_same_round_is_charged_once(event: PrivacyEvent, repeats: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ledger.json"
        results = [_open(path, budget=1e6).charge(event) for _ in range(repeats)]
        assert results == [True] + [False] * (repeats - 1)
        reloaded = Ledger.load(path)
        assert reloaded.events == (event,)
        assert reloaded.spent() == epsilon_of([event], DELTA, "rdp")


# --- two processes --------------------------------------------------------------------


def _charge_rounds(path: str, run_id: str, rounds: int) -> list[bool]:
    ledger = _open(Path(path), budget=1e6)
    shared = [ledger.charge(_round("shared", i)) for i in range(1, rounds + 1)]
    own = [ledger.charge(_round(run_id, i)) for i in range(1, rounds + 1)]
    return shared + own


def test_two_processes_lose_no_charge(tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    _open(path, budget=1e6)
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        results = pool.starmap(_charge_rounds, [(str(path), "p1", 8), (str(path), "p2", 8)])
    ledger = Ledger.load(path)
    keys = [event.key() for event in ledger.events]
    assert len(keys) == len(set(keys)) == 24
    assert {k[0] for k in keys} == {"shared", "p1", "p2"}
    shared_charged = [a or b for a, b in zip(results[0][:8], results[1][:8], strict=True)]
    exactly_once = [a != b for a, b in zip(results[0][:8], results[1][:8], strict=True)]
    assert all(shared_charged) and all(exactly_once)
    assert all(results[0][8:]) and all(results[1][8:])
    assert ledger.spent() == epsilon_of(ledger.events, DELTA, "rdp")


def test_release_mark_persists_and_needs_a_charge(tmp_path: Path) -> None:
    ledger = _open(tmp_path / "l.json")
    event = _round("r", 1)
    with pytest.raises(LedgerError, match="was never charged"):
        ledger.mark_released(event)
    ledger.charge(event)
    assert not ledger.is_released(event)
    spent = ledger.spent()
    ledger.mark_released(event)
    reloaded = Ledger.load(tmp_path / "l.json")
    assert reloaded.is_released(event)
    assert reloaded.entries[0].released_at >= reloaded.entries[0].charged_at
    assert reloaded.spent() == spent  # marking changes no ε
