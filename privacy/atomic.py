"""Crash-safe file replacement and an inter-process lock for files that must not be lost."""

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


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


@contextlib.contextmanager
def file_lock(path: str | os.PathLike[str]) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``<path>.lock`` (blocking) for the ``with`` body.

    The lock is per open file, so it excludes other processes and other threads alike;
    it is released when the body ends or the process dies. The lock file is left in place.
    ``flock`` is advisory and may not work across machines on network file systems.
    """
    fd = os.open(lock_path(path), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
