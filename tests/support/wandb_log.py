"""Read W&B's offline transaction log (``run-<id>.wandb``) back, record by record.

wandb 0.31 ships no Python reader for this file (its ``sdk.internal.datastore`` is gone;
the Go ``wandb-core`` writes it). The format is LevelDB's log format behind a 7-byte W&B
header: 32 KiB blocks of chunks, each ``crc32 (4, little endian) | length (2) | type (1) |
data``, a record split over blocks as FIRST/MIDDLE/LAST chunks; every record is a
``wandb.proto.wandb_internal_pb2.Record``. The checksum (IEEE CRC-32 over the type byte
and the data) is verified, so a mis-framed read fails instead of yielding garbage.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wandb.proto import wandb_internal_pb2 as pb

HEADER = b":W&B" + struct.pack("<HB", 0xBEE1, 0)
BLOCK = 32 * 1024
CHUNK_HEADER = 7
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


def records(path: Path) -> Iterator[pb.Record]:
    """Every record in the file, in the order written."""
    data = path.read_bytes()
    if not data.startswith(HEADER):
        raise ValueError(f"{path}: not a W&B transaction log (header {data[:7]!r})")
    pos, pending = len(HEADER), b""
    while pos + CHUNK_HEADER <= len(data):
        left = BLOCK - pos % BLOCK
        if left < CHUNK_HEADER:  # the block's tail is padding
            pos += left
            continue
        crc, length, kind = struct.unpack_from("<IHB", data, pos)
        if crc == length == kind == 0:  # zero padding at the end of a block
            pos += left
            continue
        chunk = data[pos + CHUNK_HEADER:pos + CHUNK_HEADER + length]
        if zlib.crc32(chunk, zlib.crc32(bytes([kind]))) != crc:
            raise ValueError(f"{path}: checksum mismatch at byte {pos}")
        pos += CHUNK_HEADER + length
        pending = chunk if kind in (FULL, FIRST) else pending + chunk
        if kind in (FULL, LAST):
            record = pb.Record()
            record.ParseFromString(pending)
            yield record


@dataclass
class OfflineRun:
    """What an offline run logged: config, history rows by step, summary, artifacts."""

    run_id: str = ""
    group: str = ""
    name: str = ""
    tags: list[str] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    artifacts: list[dict[str, Any]] = field(default_factory=list)
    exit_code: int | None = None
    raw: bytes = b""


def read_run(run_dir: Path) -> OfflineRun:
    """Read ``run_dir/run-*.wandb`` (one ``wandb/offline-run-*`` folder)."""
    (path,) = run_dir.glob("run-*.wandb")
    run = OfflineRun(raw=path.read_bytes())
    for record in records(path):
        kind = record.WhichOneof("record_type")
        if kind == "run":
            r = record.run
            run.run_id, run.group, run.name = r.run_id, r.run_group, r.display_name
            run.tags = list(r.tags)
            run.config.update(_items(r.config.update))
        elif kind == "config":
            run.config.update(_items(record.config.update))
        elif kind == "history":
            run.history.append(_items(record.history.item))
        elif kind == "summary":
            run.summary.update(_items(record.summary.update))
        elif kind == "artifact":
            a = record.artifact
            run.artifacts.append({"name": a.name, "type": a.type,
                                  "files": sorted(m.path for m in a.manifest.contents)})
        elif kind == "exit":
            run.exit_code = record.exit.exit_code
    return run


def _items(items: Any) -> dict[str, Any]:
    """``{key: decoded JSON value}`` from protobuf items (nested keys joined by '/')."""
    out = {}
    for item in items:
        key = item.key or "/".join(item.nested_key)
        out[key] = json.loads(item.value_json)
    return out
