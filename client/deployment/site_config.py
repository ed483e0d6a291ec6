"""A data site's own config file, turned into its SuperNode's node config.

The file (YAML, keys of :class:`conf.deploy_schema.SiteConfig`) is the only source of
what the site holds and spends: data file and schema, ledger, budget, δ, its floor and
the app it agreed to. Nothing of it comes from the coordinator.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import yaml

from conf.deploy_schema import SiteConfig
from conf.errors import ConfigError
from conf.site_policy import POLICY_KEYS, to_node_config
from conf.task_schema import load_task_schema, task_schema_digest
from conf.validate import build

PATH_KEYS = ("data_path", "ledger_path", "ledger_key", "root_certificates", "auth_key",
             "identity_key", "roster")
SITE_FOLDER = Path("sites")  # where ``site=NAME`` looks for NAME.yaml


def site_file(site: str) -> Path:
    """``site=PATH`` or ``site=NAME`` (``sites/NAME.yaml`` in the current folder)."""
    path = Path(site)
    if path.suffix in (".yaml", ".yml") or path.is_file():
        return path
    return SITE_FOLDER / f"{site}.yaml"


SHA256 = re.compile(r"[0-9a-f]{64}")


def load_site_config(site: str, overrides: dict[str, Any]) -> SiteConfig:
    """The validated site config, relative paths resolved against the file's folder."""
    path = site_file(site)
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as err:
        raise ConfigError(f"site={site}: cannot read the site's config file {path} "
                          f"({err.strerror})") from err
    except yaml.YAMLError as err:
        raise ConfigError(f"site config {path} is not valid YAML: {err}") from err
    if not isinstance(raw, dict):
        raise ConfigError(f"site config {path} is not a mapping of keys to values")
    cfg = build(SiteConfig, _nest_policy({**raw, **overrides}, path), "")
    if cfg.app_sha256 is not None and not SHA256.fullmatch(cfg.app_sha256):
        raise ConfigError(f"site config {path}: app_sha256={cfg.app_sha256!r}: not a SHA-256 "
                          "(64 lowercase hex digits); copy the digest `privfl deploy app-hash` "
                          "prints, or leave it out to pin the app this privfl builds")
    folder = path.parent.resolve()
    resolved = {key: str((folder / value).resolve()) for key in PATH_KEYS
                if (value := getattr(cfg, key)) is not None}
    if not Path(cfg.task).is_absolute() and cfg.task.endswith((".yaml", ".yml")):
        resolved["task"] = str((folder / cfg.task).resolve())
    return dataclasses.replace(cfg, **resolved)


def _nest_policy(raw: dict[str, Any], path: Path) -> dict[str, Any]:
    """The file's top-level policy keys gathered under ``policy`` (the schema's field)."""
    if "policy" in raw:
        raise ConfigError(f"site config {path}: policy: unknown key; write the policy's keys "
                          f"({', '.join(POLICY_KEYS)}) at the top level of the file")
    policy = {key: raw[key] for key in POLICY_KEYS if key in raw}
    rest = {key: value for key, value in raw.items() if key not in POLICY_KEYS}
    return {**rest, "policy": policy}


def check_site_files(cfg: SiteConfig) -> None:
    """Refuse to start without the files the site's settings name."""
    needed = {"data_path": cfg.data_path, "identity_key": cfg.identity_key,
              "roster": cfg.roster}
    if not cfg.insecure:
        needed |= {"root_certificates": cfg.root_certificates, "auth_key": cfg.auth_key}
        for key in ("root_certificates", "auth_key"):
            if needed[key] is None:
                raise ConfigError(f"{key}: missing; a site connects over TLS with the CA "
                                  "certificate and its authentication key from `privfl "
                                  "certs` (insecure=true only for a local test)")
    for key, value in needed.items():
        if value is not None and not Path(value).is_file():
            raise ConfigError(f"{key}={value}: no such file")
    ledger_folder = Path(cfg.ledger_path).parent
    if not ledger_folder.is_dir():
        raise ConfigError(f"ledger_path={cfg.ledger_path}: the folder {ledger_folder} "
                          "does not exist")


def node_config(cfg: SiteConfig) -> dict[str, str | float | bool]:
    """The SuperNode's node config (keys of ``conf.site.SiteSettings.from_node_config``)."""
    schema = load_task_schema(cfg.task, Path.cwd())
    values: dict[str, str | float | bool | None] = {
        "site": cfg.site,
        "data-path": cfg.data_path,
        "ledger-path": cfg.ledger_path,
        "ledger-key": cfg.ledger_key,
        "budget": cfg.budget,
        "delta": cfg.delta,
        "task-schema": task_schema_digest(schema),
        "identity-key": cfg.identity_key,
        "roster": cfg.roster,
        **to_node_config(cfg.policy),
    }
    return {key: value for key, value in values.items() if value is not None}


def format_node_config(values: dict[str, str | float | bool]) -> str:
    """``--node-config`` text: space-separated TOML ``key=value`` pairs."""
    def toml(value: str | float | bool) -> str:
        if isinstance(value, bool):
            return str(value).lower()
        if isinstance(value, int | float):
            return repr(value)
        if '"' in value or "\\" in value:
            raise ConfigError(f"node config value {value!r}: quotes and backslashes are not "
                              "supported in paths or names")
        return f'"{value}"'
    return " ".join(f"{key}={toml(value)}" for key, value in values.items())
