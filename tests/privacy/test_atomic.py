"""privacy.atomic: atomic replacement and the inter-process file lock."""

import os
import threading
from pathlib import Path

import pytest

from privacy import atomic
from privacy.atomic import LockTimeoutError, atomic_write_text, file_lock, lock_path


def test_writes_new_and_replaces_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "ledger.json"
    atomic_write_text(target, "first ε\n")
    assert target.read_text(encoding="utf-8") == "first ε\n"
    atomic_write_text(target, "second\n")
    assert target.read_text(encoding="utf-8") == "second\n"
    assert os.listdir(tmp_path) == ["ledger.json"]
    assert target.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("failing", ["replace", "fsync"])
def test_failure_keeps_old_file_and_removes_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    target = tmp_path / "ledger.json"
    target.write_text("old\n", encoding="utf-8")

    def crash(*args: object) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(atomic.os, failing, crash)
    with pytest.raises(OSError, match="disk gone"):
        atomic_write_text(target, "new\n")
    assert target.read_text(encoding="utf-8") == "old\n"
    assert os.listdir(tmp_path) == ["ledger.json"]


def test_lock_file_is_a_sibling(tmp_path: Path) -> None:
    assert lock_path(tmp_path / "site.json") == tmp_path / "site.json.lock"


def test_lock_is_exclusive_until_released(tmp_path: Path) -> None:
    target = tmp_path / "ledger.json"
    acquired = threading.Event()

    def contender() -> None:
        with file_lock(target):
            acquired.set()

    with file_lock(target):
        thread = threading.Thread(target=contender)
        thread.start()
        assert not acquired.wait(0.3)
    assert acquired.wait(5)
    thread.join()
    assert lock_path(target).exists()


def test_a_held_lock_times_out_naming_the_file_and_the_holders_pid(tmp_path: Path) -> None:
    target = tmp_path / "ledger.json"
    failed: list[BaseException] = []

    def contender() -> None:
        try:
            with file_lock(target, timeout=0.2):
                pass
        except LockTimeoutError as err:
            failed.append(err)

    with file_lock(target):
        thread = threading.Thread(target=contender)
        thread.start()
        thread.join(5)
    (err,) = failed
    assert str(err).startswith(f"{lock_path(target)} is held by process {os.getpid()} for "
                               "over 0.2 s")
    with file_lock(target, timeout=0.2):  # released: taken at once
        assert lock_path(target).read_text() == str(os.getpid())
