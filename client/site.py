"""Find this site's own settings: node config in deployment, a file in simulation."""

from __future__ import annotations

import os
from pathlib import Path

from flwr.app import Context

from conf.errors import ConfigError
from conf.site import SITE_SETTINGS_ENV, SiteSettings, settings_file


def load_site_settings(context: Context) -> SiteSettings:
    """The site's settings; never read from the coordinator's run config."""
    node_config = context.node_config
    if "data-path" in node_config:
        return SiteSettings.from_node_config(dict(node_config))
    if "partition-id" in node_config:
        folder = os.environ.get(SITE_SETTINGS_ENV)
        if not folder:
            raise ConfigError(
                f"simulated site has no settings: the environment variable {SITE_SETTINGS_ENV} "
                "is unset; start simulations with `privfl simulate`"
            )
        return SiteSettings.read(settings_file(Path(folder), int(node_config["partition-id"])))
    raise ConfigError(
        "this SuperNode has no site settings; start it with `privfl deploy supernode` or "
        "--node-config \"site=... data-path=... ledger-path=... budget=... delta=...\""
    )
