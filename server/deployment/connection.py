"""The coordinator's Flower connection to its SuperLink: ``[superlink.privfl]`` in
``$FLWR_HOME/config.toml`` (default ``~/.flwr``), which ``flwr supernode register`` and
``flwr run`` (behind ``privfl deploy run``) use."""

from __future__ import annotations

import tomllib
from pathlib import Path

import tomli_w
from flwr.supercore.utils import get_flwr_home

from privacy.atomic import atomic_write_text

CONNECTION = "privfl"


def write_connection(address: str, root_certificates: Path | None) -> Path:
    """Add (or replace) the ``privfl`` connection; ``root_certificates`` None: plaintext."""
    path = get_flwr_home() / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    config = tomllib.loads(path.read_text()) if path.exists() else {}
    links = config.setdefault("superlink", {})
    entry: dict[str, str | bool] = {"address": address}
    if root_certificates is None:
        entry["insecure"] = True
    else:
        entry["root-certificates"] = str(root_certificates.resolve())
    links[CONNECTION] = entry
    links.setdefault("default", CONNECTION)
    atomic_write_text(path, tomli_w.dumps(config))
    return path
