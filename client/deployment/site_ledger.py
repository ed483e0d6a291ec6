"""The site's ledger at SuperNode start: verified before the site joins, or created on
its first start when the operator says so (``--init-ledger``)."""

from __future__ import annotations

from pathlib import Path

from conf.deploy_schema import SiteConfig
from conf.errors import ConfigError
from privacy.ledger import Ledger
from privacy.ledger_seal import default_key_path

INIT_FLAG = "--init-ledger"
FIRST_START_ACCOUNTANT = "rdp"  # privacy.accountant's default; `privfl ledger init` for prv


def prepare_site_ledger(cfg: SiteConfig, init: bool) -> str:
    """Verify (or, with ``init`` and no trace of an earlier one, create) the site's
    ledger; returns what was done, for the start line."""
    path = Path(cfg.ledger_path)
    key = Path(cfg.ledger_key) if cfg.ledger_key else default_key_path(path)
    if Ledger.never_existed(path, key):
        if not init:
            raise ConfigError(
                f"ledger_path={path}: no ledger there; on the site's first start add "
                f"{INIT_FLAG} (or create it with privfl ledger init), a ledger is never "
                "created silently")
        Ledger.create(path, key_path=key, site=cfg.site, delta=cfg.delta,
                      accountant=FIRST_START_ACCOUNTANT, budget=cfg.budget)
        return f"created ledger {path} (key {key}, accountant {FIRST_START_ACCOUNTANT})"
    ledger = Ledger.load(path, key)
    ledger.check_settings(site=cfg.site, delta=cfg.delta, budget=cfg.budget)
    return (f"ledger {path} verified, ε spent {ledger.spent():.4g} of {ledger.budget:g} "
            f"({ledger.accountant}, δ={ledger.delta:g}, unit=record)")
