"""``key=value`` arguments of the small privfl commands (``certs``, ``deploy``), parsed
with Hydra's override grammar (``hosts=[a,b]``, ``force=true``) into plain values."""

from __future__ import annotations

from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException

from conf.errors import ConfigError


def parse_key_values(args: list[str], command: str) -> dict[str, Any]:
    """``{key: value}`` from ``key=value`` arguments; ConfigError (one line) otherwise."""
    parser = OverridesParser.create()
    values: dict[str, Any] = {}
    for arg in args:
        if "=" not in arg or arg.startswith("-"):
            raise ConfigError(f"{command}: {arg!r}: expected key=value")
        try:
            override = parser.parse_overrides([arg])[0]
        except HydraException as err:
            raise ConfigError(f"cannot parse {arg!r}: {str(err).splitlines()[0]}") from err
        if override.is_sweep_override():
            raise ConfigError(f"{arg}: {command} takes one value per key")
        values[override.key_or_group] = _plain(override.value())
    return values


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
