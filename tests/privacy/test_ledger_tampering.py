"""A sealed ledger refuses every tampering (issue 16's probe), naming the file and how to
restore it, and still accepts an honest history."""

import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from privacy import ledger_seal
from privacy.errors import LedgerError
from privacy.events import DpSgdEvent
from privacy.ledger import Ledger

SITE = {"site": "hospital-a", "delta": 1e-5, "accountant": "rdp", "budget": 10.0}
RESTORE = "restore the ledger and its key from the site's latest backup"


def _round(rnd: int) -> DpSgdEvent:
    return DpSgdEvent(run_id="run-1", round=rnd, noise_multiplier=1.1, sample_rate=0.05,
                      steps=40)


def _honest(folder: Path) -> Path:
    """A ledger with three charges, two of them released."""
    path = folder / "ledger.json"
    ledger = Ledger.create(path, **SITE)
    for rnd in (1, 2, 3):
        ledger.charge(_round(rnd))
        if rnd < 3:
            ledger.mark_released(_round(rnd))
    return path


Document = dict[str, Any]


def _records(document: Document, kind: str) -> list[Document]:
    return [r for r in document["records"] if r["kind"] == kind]


def _rechain(document: Document) -> None:
    """What an attacker without the key can do: recompute every link and the head."""
    header = {k: v for k, v in document.items() if k not in ("records", "head", "seal")}
    prev = ledger_seal.digest(header)
    for record in document["records"]:
        record["prev"] = prev
        prev = ledger_seal.digest(record)
    document["head"] = prev


def _raise_sigma(d: Document) -> None:
    _records(d, "charge")[0]["noise_multiplier"] = 4.0


def _raise_sigma_rechained(d: Document) -> None:
    _raise_sigma(d)
    _rechain(d)


def _lower_steps(d: Document) -> None:
    _records(d, "charge")[1]["steps"] = 1


def _lower_rate(d: Document) -> None:
    _records(d, "charge")[2]["sample_rate"] = 0.001


def _remove_released_at(d: Document) -> None:
    d["records"].remove(_records(d, "release")[0])


def _delete_middle_charge(d: Document) -> None:
    d["records"].remove(_records(d, "charge")[1])


def _delete_last_record(d: Document) -> None:
    d["records"].pop()


def _delete_all_records(d: Document) -> None:
    d["records"] = []
    _rechain(d)


def _reorder(d: Document) -> None:
    d["records"][0], d["records"][2] = d["records"][2], d["records"][0]


def _raise_budget(d: Document) -> None:
    d["budget"] = 1000.0


def _raise_delta(d: Document) -> None:
    d["delta"] = 1e-3


def _swap_accountant(d: Document) -> None:
    d["accountant"] = "prv"


def _rename_site(d: Document) -> None:
    d["site"] = "bank-b"


def _move_charge_to_another_run(d: Document) -> None:
    _records(d, "charge")[0]["run_id"] = "another-run"


def _drop_seal(d: Document) -> None:
    del d["seal"]


def _forge_seal(d: Document) -> None:
    _delete_last_record(d)
    _rechain(d)
    d["seal"] = ledger_seal.seal(b"\0" * 32, d["head"])


DOCUMENT_EDITS: dict[str, Callable[[Document], None]] = {
    "raised σ": _raise_sigma,
    "raised σ, chain recomputed": _raise_sigma_rechained,
    "lowered steps": _lower_steps,
    "lowered sample rate": _lower_rate,
    "removed released_at": _remove_released_at,
    "deleted a charge": _delete_middle_charge,
    "truncated history": _delete_last_record,
    "all charges removed": _delete_all_records,
    "reordered records": _reorder,
    "raised budget": _raise_budget,
    "raised δ": _raise_delta,
    "other accountant": _swap_accountant,
    "other site name": _rename_site,
    "charge moved to another run": _move_charge_to_another_run,
    "seal removed": _drop_seal,
    "seal forged with another key": _forge_seal,
}


@pytest.mark.parametrize("edit", DOCUMENT_EDITS.values(), ids=DOCUMENT_EDITS.keys())
def test_an_edited_ledger_is_refused_and_left_as_it_is(tmp_path: Path, edit) -> None:
    path = _honest(tmp_path)
    document = json.loads(path.read_text())
    edit(document)
    path.write_text(json.dumps(document, indent=2))
    tampered = path.read_bytes()
    for attempt in (lambda: Ledger.load(path), lambda: Ledger.open(path, **SITE),
                    lambda: Ledger.open(path, **SITE, create=True)):
        with pytest.raises(LedgerError, match="was altered") as info:
            attempt()
        assert str(path) in str(info.value) and RESTORE in str(info.value)
    assert path.read_bytes() == tampered  # nothing rewritten over the evidence


def test_a_cut_off_file_is_refused(tmp_path: Path) -> None:
    path = _honest(tmp_path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(LedgerError, match="cannot read ledger") as info:
        Ledger.open(path, **SITE)
    assert RESTORE in str(info.value)


def test_a_deleted_ledger_is_never_replaced_by_a_fresh_one(tmp_path: Path) -> None:
    path = _honest(tmp_path)
    path.unlink()
    for attempt in (lambda: Ledger.open(path, **SITE), lambda: Ledger.open(path, **SITE,
                                                                           create=True),
                    lambda: Ledger.create(path, **SITE)):
        with pytest.raises(LedgerError, match=r"is missing but its key .* exists: the ledger "
                                              "was deleted or moved") as info:
            attempt()
        assert RESTORE in str(info.value)
    assert not path.exists()


def test_another_sites_ledger_in_its_place_is_refused(tmp_path: Path) -> None:
    path = _honest(tmp_path)
    other = Ledger.create(tmp_path / "other" / "ledger.json", **SITE)
    shutil.copy(other.path, path)  # a valid ledger, sealed with another key
    with pytest.raises(LedgerError, match=r"was sealed with key .*, not with the key .* given: "
                                          "point the site at the key created with this ledger"):
        Ledger.open(path, **SITE)


def test_a_deleted_key_is_refused(tmp_path: Path) -> None:
    path = _honest(tmp_path)
    ledger_seal.default_key_path(path).unlink()
    with pytest.raises(LedgerError, match=r"ledger key .* is missing, so the ledger cannot be "
                                          "verified: restore the key"):
        Ledger.open(path, **SITE, create=True)
    assert path.exists()


def test_a_restored_backup_is_accepted(tmp_path: Path) -> None:
    path = _honest(tmp_path)
    backup = tmp_path / "backup"
    backup.mkdir()
    for file in (path, ledger_seal.default_key_path(path)):
        shutil.copy(file, backup / file.name)
    path.write_text("{}")
    shutil.copy(backup / path.name, path)
    ledger = Ledger.open(path, **SITE)
    assert len(ledger.entries) == 3 and [e.released_at is None for e in ledger.entries] == [
        False, False, True]
    assert [e.event for e in ledger.unreleased()] == [_round(3)]


FIELDS = st.sampled_from(["noise_multiplier", "sample_rate", "steps", "round", "run_id",
                          "charged_at", "released_at", "label", "prev", "mechanism"])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(index=st.integers(0, 4), field=FIELDS, value=st.one_of(
    st.integers(0, 10**6), st.floats(0.001, 100), st.text(min_size=1, max_size=8)))
def test_any_changed_field_of_any_record_is_detected(index: int, field: str,
                                                     value: object) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = _honest(Path(folder))
        document = json.loads(path.read_text())
        record = document["records"][index]
        if field not in record or record[field] == value:
            return
        record[field] = value
        path.write_text(json.dumps(document))
        with pytest.raises(LedgerError, match="was altered"):
            Ledger.load(path)


@settings(max_examples=25, deadline=None)
@given(steps=st.lists(st.sampled_from(["charge", "release", "budget"]), max_size=12))
def test_an_honest_history_always_verifies(steps: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ledger.json"
        ledger = Ledger.create(path, **{**SITE, "budget": 1e6})
        charged, budget = 0, 1e6
        for step in steps:
            if step == "charge":
                charged += 1
                ledger.charge(_round(charged))
            elif step == "release" and charged:
                ledger.mark_released(_round(charged))
            elif step == "budget":
                budget += 1
                ledger.set_budget(budget)
        reloaded = Ledger.open(path, **{**SITE, "budget": budget})
        assert reloaded.entries == ledger.entries
        assert reloaded.budget == budget
