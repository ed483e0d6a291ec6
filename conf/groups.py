"""Config-group choices (``task=digits``) checked before Hydra composes anything."""

from __future__ import annotations

import re
from pathlib import Path

from conf.errors import ConfigError

CONF_DIR = Path(__file__).parent
_CHOICE = re.compile(r"^(?:override\s+)?([a-z_]+)=([^=]*)$")


def group_choices(group: str) -> list[str]:
    """The YAML files of a config group, without suffix (e.g. task -> csv, digits, ...)."""
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))


def check_group_overrides(overrides: list[str]) -> None:
    """Reject ``group=choice`` overrides that name no YAML file in that group."""
    for override in overrides:
        match = _CHOICE.match(override.lstrip("+~"))
        if not match or not (CONF_DIR / match[1]).is_dir():
            continue
        group, choice = match[1], match[2]
        allowed = group_choices(group)
        for one in choice.split(","):
            if one not in allowed and one != "null":
                raise ConfigError(f"{group}={one}: unknown; allowed: {', '.join(allowed)}")
