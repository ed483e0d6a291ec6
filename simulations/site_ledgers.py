"""The simulated sites' ledgers: created with a fresh run folder, or reused (and
verified) from ``simulation.ledger_dir`` before anything starts."""

from __future__ import annotations

from pathlib import Path

from conf.errors import ConfigError
from conf.schema import ExperimentConfig
from conf.site import SiteSettings
from privacy.ledger import Ledger


def prepare_ledger(cfg: ExperimentConfig, settings: SiteSettings) -> None:
    """Create or verify the ledger of one simulated site.

    Without ``simulation.ledger_dir`` the ledgers live in the run's own new folder and
    are created there. A given ``ledger_dir`` is reused: a missing ledger is created
    only with ``simulation.init_ledgers=true`` (and never where its key shows one
    existed); an altered one, or one created with other settings, stops the run here.
    """
    path = Path(settings.ledger_path)
    reused = cfg.simulation.ledger_dir is not None
    if reused and Ledger.never_existed(path) and not cfg.simulation.init_ledgers:
        raise ConfigError(
            f"simulation.ledger_dir={cfg.simulation.ledger_dir}: {settings.site} has no ledger "
            f"there ({path.name}); add simulation.init_ledgers=true to create the missing ones "
            "(a site's ledger is created once, explicitly)")
    Ledger.open(path, site=settings.site, delta=settings.delta,
                accountant=cfg.privacy.accountant, budget=settings.budget,
                create=not reused or cfg.simulation.init_ledgers)
