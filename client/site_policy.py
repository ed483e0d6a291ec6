"""What a site agrees to, decided by the site (its settings), not by the run config.

The coordinator's run config asks for DP-SGD or not, and for seeded noise or not; the
site refuses a run that asks for less privacy than its own settings allow. Site-level
DP alone (``privacy=client_dp``) counts as no DP at the site: its noise is added by the
coordinator, and it bounds a whole site's influence, not the site's records' exposure to
the coordinator. Likewise a run may ask a site to publish a synthetic table that is not
DP; the site refuses unless it opted in.
"""

from __future__ import annotations

from conf.errors import ConfigError
from conf.schema import ExperimentConfig
from conf.site import SiteSettings
from conf.task_schema import task_schema_digest


class SitePolicyError(ConfigError):
    """The run asks a site for something its own settings do not allow."""


def check_run_allowed(cfg: ExperimentConfig, settings: SiteSettings) -> None:
    """Refuse non-private or seeded-noise runs unless the site opted in, a run ε above the
    site's own ceiling, and a task whose declared schema is not the one the site's data
    follows."""
    if settings.task_schema is not None and task_schema_digest(cfg.task) != settings.task_schema:
        raise SitePolicyError(
            f"site {settings.site} holds data of another schema than this run's "
            f"task={cfg.task.name} declares (name, features and label must match the task "
            "in the site's own config)"
        )
    if (cfg.privacy.record_level and settings.max_epsilon_per_run is not None
            and cfg.privacy.epsilon > settings.max_epsilon_per_run):
        raise SitePolicyError(
            f"site {settings.site} allows at most ε={settings.max_epsilon_per_run:g} per run "
            f"(record level, its δ={settings.delta:g}), but this run asks for "
            f"privacy.epsilon={cfg.privacy.epsilon:g}"
        )
    if not cfg.privacy.record_level and not settings.allow_nonprivate:
        raise SitePolicyError(
            f"site {settings.site} trains only with DP-SGD, but this run asks for "
            f"privacy={cfg.privacy.name} (no record-level DP at the site); the site must set "
            "allow-nonprivate=true in its own settings to take part"
        )
    if cfg.reproducible and cfg.privacy.name != "none" and not settings.allow_reproducible:
        raise SitePolicyError(
            f"site {settings.site} draws DP noise from OS entropy, but this run asks for "
            "reproducible=true (seeded, NOT private); the site must set allow-reproducible=true"
            " in its own settings to take part"
        )


def check_synthesis_allowed(cfg: ExperimentConfig, settings: SiteSettings) -> None:
    """Refuse to publish a synthetic table that is not DP unless the site opted in."""
    if not cfg.synthetic.private and not settings.allow_nondp_synthetic:
        raise SitePolicyError(
            f"site {settings.site} publishes only differentially private synthetic tables, but "
            f"this run asks for synthetic.synthesizer={cfg.synthetic.synthesizer} (NOT DP); the "
            "site must set allow-nondp-synthetic=true in its own settings to publish it"
        )


def check_noise_floor(settings: SiteSettings, noise_multiplier: float) -> None:
    """Refuse a DP-SGD plan whose noise multiplier is below the site's own floor."""
    if noise_multiplier < settings.min_noise_multiplier:
        raise SitePolicyError(
            f"site {settings.site} trains with a noise multiplier of at least "
            f"{settings.min_noise_multiplier:g}, but this run's settings give "
            f"{noise_multiplier:.3f}; ask the coordinator for a smaller privacy.epsilon "
            "(which calibrates more noise)"
        )
