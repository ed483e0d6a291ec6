"""The bridge between the typed config and Flower's ``run_config``.

Flower's run_config holds flat dotted keys with scalar values. Nested groups become
dotted keys (``privacy.epsilon``); lists travel as JSON strings; ``None`` values are
left out (every optional field defaults to ``None``). The ServerApp and ClientApp
rebuild the same :class:`ExperimentConfig` with :func:`from_run_config`.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Mapping
from typing import Any

from conf.schema import ExperimentConfig
from conf.validate import validate

Scalar = bool | int | float | str


def to_run_config(cfg: ExperimentConfig) -> dict[str, Scalar]:
    """Flatten a validated config into Flower run_config entries."""
    flat: dict[str, Scalar] = {}
    _flatten(dataclasses.asdict(cfg), "", flat)
    return flat


def from_run_config(run_config: Mapping[str, Any]) -> ExperimentConfig:
    """Rebuild and re-validate the typed config from a run_config (validated once per
    distinct run_config: every handler and secure-aggregation stage calls this)."""
    return _from_items(tuple(sorted(run_config.items())))


@functools.lru_cache(maxsize=16)
def _from_items(items: tuple[tuple[str, Scalar], ...]) -> ExperimentConfig:
    nested: dict[str, Any] = {}
    for key, value in items:
        node = nested
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = _decode(value)
    return validate(nested)


def _flatten(tree: Mapping[str, Any], prefix: str, out: dict[str, Scalar]) -> None:
    for name, value in tree.items():
        key = f"{prefix}{name}"
        if value is None:
            continue
        if isinstance(value, Mapping):
            _flatten(value, f"{key}.", out)
        elif isinstance(value, list | tuple):
            out[key] = json.dumps(value)
        else:
            out[key] = value


def _decode(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("["):
        return json.loads(value)
    return value
