"""The run directory: metrics, privacy summary, checkpoints, final model, summary."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import torch

from privacy.atomic import atomic_write_bytes, atomic_write_text


class RunOutputs:
    """Writes the files a run leaves behind; persisted state is written atomically."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    @property
    def metrics_path(self) -> Path:
        return self.root / "metrics.jsonl"

    def append_metrics(self, row: dict[str, Any]) -> None:
        """Append one JSON object (one round) to ``metrics.jsonl`` and fsync it."""
        with self.metrics_path.open("a") as fh:
            fh.write(json.dumps(row) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def write_json(self, name: str, obj: Any) -> Path:
        """Write ``name`` as indented JSON, atomically."""
        path = self.root / name
        atomic_write_text(path, json.dumps(obj, indent=2) + "\n")
        return path

    def write_text(self, name: str, text: str) -> Path:
        """Write a text file atomically."""
        path = self.root / name
        atomic_write_text(path, text)
        return path

    def save_model(self, name: str, state_dict: dict[str, torch.Tensor]) -> Path:
        """Save a state dict with ``torch.save``, atomically."""
        buffer = io.BytesIO()
        torch.save(state_dict, buffer)
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, buffer.getvalue())
        return path

    def checkpoint(self, server_round: int, state_dict: dict[str, torch.Tensor]) -> Path:
        """The global model after ``server_round`` (round 0: the initial model)."""
        return self.save_model(f"checkpoints/round-{server_round:03d}.pt", state_dict)
