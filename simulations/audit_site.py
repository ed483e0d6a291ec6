"""Where ``privfl audit`` gets the audited site: its settings, its data file, and the rows
outside it that canaries are drawn from.

Fresh (no ``run_dir``): the experiment's data is laid out as ``privfl simulate`` does
(``write_site_data``) under the audit's own folder. With ``run_dir``: the finished run's
resolved ``config.yaml``, its site settings file and its data folder, unchanged. Either
way the audit charges its training to a ledger of its own (in the audit's folder), never
to the run's ledgers.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import torch
from omegaconf import OmegaConf
from torch.utils.data import TensorDataset

from conf.audit_schema import AuditConfig, check_auditable
from conf.errors import ConfigError
from conf.schema import ExperimentConfig
from conf.site import SiteSettings, settings_file
from conf.validate import validate
from privacy.ledger import Ledger
from simulations.site_data import write_site_data
from tasks.registry import get_task

AUDIT_KEYS = ("audit.", "run_dir=", "hydra.")


@dataclass(frozen=True)
class AuditedSite:
    """The experiment the site runs, the site's own settings and the canary pool files."""

    cfg: ExperimentConfig
    settings: SiteSettings
    pool_files: tuple[Path, ...]

    def canary_pool(self) -> TensorDataset:
        """Every row outside the audited site (other sites' files, the server's test
        file), encoded as the task declares."""
        task = get_task(self.cfg.task)
        parts = [task.read_dataset(path).tensors for path in self.pool_files]
        return TensorDataset(*(torch.cat(column) for column in zip(*parts, strict=True)))


def fresh_site(cfg: ExperimentConfig, audit: AuditConfig, out: Path) -> AuditedSite:
    """Lay out the experiment's data under ``out/data`` and audit site ``audit.site``."""
    check_auditable(cfg, audit)
    data = write_site_data(cfg, out / "data")
    site_file = data.site_files[audit.site]
    settings = SiteSettings(site=f"site-{audit.site}", data_path=str(site_file.resolve()),
                            ledger_path="", budget=cfg.privacy.site_budget,
                            delta=cfg.privacy.delta)
    settings = _with_audit_ledger(cfg, settings, out)
    others = [p for p in data.site_files if p != site_file] + [data.server_test]
    return AuditedSite(cfg, settings, tuple(others))


def run_site(run_dir: Path, audit: AuditConfig, out: Path, overrides: list[str]
             ) -> AuditedSite:
    """Audit site ``audit.site`` of the finished run in ``run_dir`` with its own settings."""
    extra = [o for o in overrides if not o.lstrip("+~").startswith(AUDIT_KEYS)]
    if extra:
        raise ConfigError(f"{extra[0]}: run_dir={run_dir} audits that run's own settings; drop "
                          "the experiment overrides (only audit.* keys may be given)")
    config = run_dir / "config.yaml"
    if not config.is_file():
        raise ConfigError(f"run_dir={run_dir}: no config.yaml there; give the folder of a run "
                          "of privfl simulate (runs/<date>/<time>)")
    raw = OmegaConf.to_container(OmegaConf.load(config), resolve=True)
    cfg = dataclasses.replace(validate(raw), output_dir=str(out))
    check_auditable(cfg, audit)
    settings = SiteSettings.read(settings_file(run_dir / "sites", audit.site))
    settings = _with_audit_ledger(cfg, settings, out)
    site_file = Path(settings.data_path)
    suffix = get_task(cfg.task).data_suffix
    others = sorted(p for p in site_file.parent.glob(f"*{suffix}") if p != site_file)
    return AuditedSite(cfg, settings, tuple(others))


def _with_audit_ledger(cfg: ExperimentConfig, settings: SiteSettings, out: Path
                       ) -> SiteSettings:
    """``settings`` charging a new ledger of the audit's own, in its folder."""
    path = (out / "ledgers" / f"{settings.site}.json").resolve()
    Ledger.create(path, site=settings.site, delta=settings.delta,
                  accountant=cfg.privacy.accountant, budget=settings.budget)
    return dataclasses.replace(settings, ledger_path=str(path), ledger_key_path=None)
