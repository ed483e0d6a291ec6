"""Write the output folder all at once: into a hidden temporary folder beside it, then
one rename. A failure at any point leaves no ``out`` folder (and no partial files)."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from conf.errors import ConfigError
from privacy.atomic import fsync_path

Writer = Callable[[Path], None]


def check_out_free(out: Path) -> None:
    """ConfigError if ``out`` exists: privfl synth never overwrites or merges outputs."""
    if out.exists() or out.is_symlink():
        raise ConfigError(f"out={out}: already exists; choose a new folder (privfl synth "
                          "never overwrites a previous output)")


def write_folder(out: Path, files: Mapping[str, Writer],
                 before_commit: Callable[[], None] | None = None) -> None:
    """Create ``out`` holding ``files`` (name -> writer of that path), atomically.

    ``before_commit`` runs after every file is written and fsynced, just before the
    rename (e.g. to mark a DP release in the site's ledger).
    """
    check_out_free(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.partial-"))
    try:
        for name, write in files.items():
            path = staging / name
            write(path)
            fsync_path(path)
        os.chmod(staging, 0o755)
        fsync_path(staging)
        if before_commit is not None:
            before_commit()
        check_out_free(out)
        os.rename(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    with contextlib.suppress(OSError):
        fsync_path(out.parent)
