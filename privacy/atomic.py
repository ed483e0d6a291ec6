"""Crash-safe file replacement and an inter-process lock for files that must not be lost."""

import contextlib
import fcntl
import logging
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from conf.errors import PrivflError


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8), atomically; see :func:`atomic_write_bytes`."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace ``path`` with ``data`` so that readers see the old or the new file.

    Writes a temporary file in the same folder, flushes and fsyncs it, renames it over
    ``path`` and fsyncs the folder. On any failure the temporary file is removed and
    ``path`` is untouched. The file is created with mode 0600 (private to the site).
    """
    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_path(target.parent)


def fsync_path(path: str | os.PathLike[str]) -> None:
    """Flush a file's or a folder's entry to disk (a folder: the names it holds)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def lock_path(path: str | os.PathLike[str]) -> Path:
    """The sibling ``<name>.lock`` file that ``file_lock`` locks for ``path``."""
    target = Path(path)
    return target.with_name(target.name + ".lock")


log = logging.getLogger("privfl")

LOCK_TIMEOUT_SECONDS = 60.0
"""How long ``file_lock`` waits for another process to release a lock."""
LOCK_POLL_SECONDS = 0.05


class LockTimeoutError(PrivflError):
    """Another process held a ledger's lock for longer than the timeout."""


@contextlib.contextmanager
def file_lock(path: str | os.PathLike[str], timeout: float = LOCK_TIMEOUT_SECONDS
              ) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``<path>.lock`` for the ``with`` body, waiting at
    most ``timeout`` seconds for another holder (then :class:`LockTimeoutError` naming the
    lock file and the holder's PID, which each holder writes into it).

    The lock is per open file, so it excludes other processes and other threads alike;
    it is released when the body ends or the process dies. The lock file is left in place.
    ``flock`` is advisory and may not work across machines on network file systems.
    """
    lock = lock_path(path)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline, waited = time.monotonic() + timeout, False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not waited:
                    log.warning("waiting up to %g s for %s, held by process %s", timeout, lock,
                                _holder(lock))
                    waited = True
                if time.monotonic() >= deadline:
                    raise LockTimeoutError(
                        f"{lock} is held by process {_holder(lock)} for over {timeout:g} s: "
                        "another privfl process is using this ledger; wait for it to finish "
                        "or stop it (the lock is released when that process exits)") from None
                time.sleep(LOCK_POLL_SECONDS)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)


def _holder(lock: Path) -> str:
    """The PID the lock's holder wrote, or "unknown"."""
    try:
        text = lock.read_text().strip()
    except OSError:
        return "unknown"
    return text if text.isdigit() else "unknown"
