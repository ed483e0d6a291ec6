"""Site-local settings: facts only the data site decides (data, ledger, budget, δ,
its policy).

They reach the ClientApp by a path the coordinator's run config cannot override: the
SuperNode's ``--node-config`` in deployment; in simulation a JSON file per partition,
written by the simulation launcher into the folder named by the environment variable
``PRIVFL_SITE_SETTINGS`` (inherited by the Ray workers, never part of run_config).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

from conf.errors import ConfigError
from conf.site_policy import POLICY_KEYS, SitePolicy, node_key
from conf.validate import build

SITE_SETTINGS_ENV = "PRIVFL_SITE_SETTINGS"


@dataclass(frozen=True)
class SiteSettings:
    """What a data site decides for itself."""

    site: str
    data_path: str
    ledger_path: str
    budget: float
    delta: float
    ledger_key_path: str | None = None  # None: beside the ledger (privacy.ledger_seal)
    identity_key_path: str | None = None
    roster_path: str | None = None
    task_schema: str | None = None
    policy: SitePolicy = field(default_factory=SitePolicy)

    def __post_init__(self) -> None:
        if not self.budget > 0:
            raise ConfigError(f"site {self.site}: budget={self.budget}: must be > 0")
        if not 0 < self.delta < 1:
            raise ConfigError(f"site {self.site}: delta={self.delta}: must be in (0, 1)")

    def write(self, path: Path) -> None:
        """Write these settings as JSON (simulation launcher)."""
        path.write_text(json.dumps(dataclasses.asdict(self), indent=2))

    @classmethod
    def read(cls, path: Path) -> SiteSettings:
        """Read settings written by :meth:`write`."""
        try:
            raw = json.loads(path.read_text())
            return cls(**{**raw, "policy": SitePolicy(**raw.get("policy", {}))})
        except FileNotFoundError as err:
            raise ConfigError(f"site settings file {path} does not exist") from err
        except (ValueError, TypeError) as err:
            raise ConfigError(f"site settings file {path} is malformed: {err}") from err

    @classmethod
    def from_node_config(cls, node_config: dict) -> SiteSettings:
        """Build from a SuperNode's node config (keys: site, data-path, ledger-path,
        budget, delta; optional ledger-key (the ledger's key file, default beside the
        ledger); for secure aggregation identity-key (the site's Ed25519 key file)
        and roster (the identity public keys it trusts, by site name); task-schema (the
        fingerprint of the task schema its data follows, ``conf.task_schema``); and the
        site's policy, ``conf.site_policy.SitePolicy`` in kebab case)."""
        keys = ("site", "data-path", "ledger-path", "budget", "delta")
        missing = [k for k in keys if k not in node_config]
        if missing:
            raise ConfigError(
                f"node config lacks {', '.join(missing)}; start the SuperNode with "
                "--node-config \"site=... data-path=... ledger-path=... budget=... delta=...\""
            )
        return cls(
            site=str(node_config["site"]),
            data_path=str(node_config["data-path"]),
            ledger_path=str(node_config["ledger-path"]),
            budget=float(node_config["budget"]),
            delta=float(node_config["delta"]),
            ledger_key_path=_optional(node_config, "ledger-key"),
            identity_key_path=_optional(node_config, "identity-key"),
            roster_path=_optional(node_config, "roster"),
            task_schema=_optional(node_config, "task-schema"),
            policy=_policy(node_config),
        )


def _policy(node_config: dict) -> SitePolicy:
    """The policy entries of a node config (TOML values; "true"/"false" text as flags)."""
    raw = {}
    for name in POLICY_KEYS:
        value = node_config.get(node_key(name))
        if isinstance(value, str) and value.lower() in ("true", "false"):
            value = value.lower() == "true"
        if value not in (None, ""):
            raw[name] = value
    return build(SitePolicy, raw, "node config", spell=node_key)


def _optional(node_config: dict, key: str) -> str | None:
    value = node_config.get(key)
    return None if value in (None, "") else str(value)


def settings_file(folder: Path, partition_id: int) -> Path:
    """Where the simulation keeps the settings of partition ``partition_id``."""
    return folder / f"site-{partition_id}.json"
