"""``privfl deploy supernode site=FILE|NAME [key=value ...]``: start this site's
``flower-supernode`` from the site's own config file (client/deployment/site_config.py)."""

from __future__ import annotations

import os
import sys

from client.deployment.site_config import (
    check_site_files,
    format_node_config,
    load_site_config,
    node_config,
)
from client.deployment.site_ledger import INIT_FLAG, prepare_site_ledger
from conf.deploy_schema import SiteConfig
from conf.errors import ConfigError
from conf.flower_app import expected_app_digest
from conf.flower_env import flower_env
from conf.key_values import parse_key_values

INSECURE_WARNING = ("privfl: WARNING: insecure=true: this site talks to the SuperLink in "
                    "plaintext and does not authenticate; use it only on a trusted test "
                    "machine, never with real data")


def supernode_command(cfg: SiteConfig) -> list[str]:
    """The command line of the site's SuperNode (the pinned ``flower-supernode``)."""
    pin = cfg.app_sha256 or expected_app_digest()
    command = [sys.executable, "-m", "client.deployment.pinned_supernode", pin,
               "--superlink", cfg.superlink, "--max-retries", str(cfg.max_retries),
               "--port", str(cfg.runtime_port),
               "--node-config", format_node_config(node_config(cfg))]
    if cfg.insecure:
        command.append("--insecure")
    else:
        command += ["--root-certificates", str(cfg.root_certificates),
                    "--auth-supernode-private-key", str(cfg.auth_key)]
    return command


def deploy_supernode(args: list[str]) -> int:
    """Validate the site's config and verify its ledger, then become its SuperNode (exec).
    ``--init-ledger``: the site's first start, create its ledger if it never existed."""
    init_ledger = INIT_FLAG in args
    values = parse_key_values([a for a in args if a != INIT_FLAG], "privfl deploy supernode")
    site = values.pop("site", None)
    if site is None:
        raise ConfigError("site: missing; privfl deploy supernode site=FILE.yaml (or NAME for "
                          "sites/NAME.yaml), see docs/deployment.md")
    cfg = load_site_config(str(site), values)
    check_site_files(cfg)
    ledger = prepare_site_ledger(cfg, init_ledger)
    command = supernode_command(cfg)
    if cfg.insecure:
        print(INSECURE_WARNING, file=sys.stderr, flush=True)
    print(f"privfl: site {cfg.site}: SuperNode for {cfg.superlink}, data {cfg.data_path}, "
          f"{ledger}, app {command[3][:12]}…", flush=True)
    os.execve(command[0], command, flower_env())
    return 0  # not reached


def print_app_hash(args: list[str]) -> int:
    """``privfl deploy app-hash``: the digest of the app the privfl installed here builds
    (what ``app_sha256`` pins; the default when the site's config leaves it out)."""
    if args:
        raise ConfigError("privfl deploy app-hash takes no arguments")
    print(expected_app_digest())
    return 0
