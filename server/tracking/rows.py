"""From a ``metrics.jsonl`` row to the flat numbers a tracker logs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def numeric_metrics(row: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """Every number in ``row``, nested mappings flattened to ``outer/inner`` keys.

    Text (site names in the failure lists, accountant names), lists and None are left
    out: the counts of failed and refusing sites travel as their own numbers, and each
    ε's accountant, δ and unit are in the tracked config and in the key names.
    """
    flat: dict[str, float] = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(numeric_metrics(value, f"{name}/"))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            flat[name] = value
    return flat
