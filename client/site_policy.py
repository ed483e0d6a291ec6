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


class OutOfOrderError(SitePolicyError):
    """A message the site's protocol state does not expect now (e.g. training before
    preflight, a SecAgg+ stage its round is not at)."""


def check_run_allowed(cfg: ExperimentConfig, settings: SiteSettings) -> None:
    """Refuse non-private or seeded-noise runs unless the site opted in, a run ε above the
    site's own ceiling, a run without secure aggregation at a site that requires it, and
    a task whose declared schema is not the one the site's data follows."""
    if settings.task_schema is not None and task_schema_digest(cfg.task) != settings.task_schema:
        raise SitePolicyError(
            f"site {settings.site} holds data of another schema than this run's "
            f"task={cfg.task.name} declares (name, features and label must match the task "
            "in the site's own config)"
        )
    check_run_epsilon(cfg, settings)
    if settings.policy.require_secure_aggregation and not cfg.secure:
        raise SitePolicyError(
            f"site {settings.site} requires secure aggregation "
            "(require-secure-aggregation=true), but this run asks for secagg=none")
    if not cfg.privacy.record_level and not settings.policy.allow_nonprivate:
        raise SitePolicyError(
            f"site {settings.site} trains only with DP-SGD, but this run asks for "
            f"privacy={cfg.privacy.name} (no record-level DP at the site); the site must set "
            "allow-nonprivate=true in its own settings to take part"
        )
    if cfg.reproducible and cfg.privacy.name != "none" and not settings.policy.allow_reproducible:
        raise SitePolicyError(
            f"site {settings.site} draws DP noise from OS entropy, but this run asks for "
            "reproducible=true (seeded, NOT private); the site must set allow-reproducible=true"
            " in its own settings to take part"
        )


def run_release_epsilon(cfg: ExperimentConfig) -> float | None:
    """The record-level ε this run asks a site to spend in all (its DP-SGD rounds and any
    DP synthetic table; None when it releases nothing under record-level DP)."""
    if cfg.privacy.record_level:
        return cfg.privacy.epsilon  # the synthesis, when charged, is part of it
    if cfg.synthetic.publish and cfg.synthetic.private:
        return cfg.synthetic.epsilon
    return None


def check_run_epsilon(cfg: ExperimentConfig, settings: SiteSettings) -> None:
    """Refuse a run whose releases together ask for more ε than the site's per-run
    ceiling (the ledger enforces the same ceiling at every charge, privacy.release)."""
    ceiling, asked = settings.policy.max_epsilon_per_run, run_release_epsilon(cfg)
    if ceiling is not None and asked is not None and asked > ceiling:
        what = ("privacy.epsilon" if cfg.privacy.record_level else "synthetic.epsilon")
        raise SitePolicyError(
            f"site {settings.site} allows at most ε={ceiling:g} per run (record level, its "
            f"δ={settings.delta:g}; max-epsilon-per-run), but this run asks for "
            f"{what}={asked:g}")


def check_secure_training(cfg: ExperimentConfig, settings: SiteSettings) -> None:
    """Refuse a train message outside the SecAgg+ mask stage when the site requires
    secure aggregation or the run was set up with it."""
    if settings.policy.require_secure_aggregation:
        raise SitePolicyError(
            f"site {settings.site} requires secure aggregation "
            "(require-secure-aggregation=true): it trains only inside the SecAgg+ mask "
            "stage, and this train message is not one")
    if cfg.secure:
        raise SitePolicyError(
            f"site {settings.site}: this run is set up with secagg={cfg.secagg.name}, but "
            "this train message is not a SecAgg+ mask stage; the update would leave the "
            "site in the clear")


def check_secure_evaluation(cfg: ExperimentConfig, settings: SiteSettings) -> None:
    """Refuse federated evaluation when the site requires secure aggregation or the run
    was set up with it: one site's test loss, accuracy and row count would leave the site
    outside the masked sum (the coordinator measures the model on its own test set)."""
    if settings.policy.require_secure_aggregation or cfg.secure:
        required = str(settings.policy.require_secure_aggregation).lower()
        raise SitePolicyError(
            f"site {settings.site} answers no federated evaluation under secure aggregation "
            f"(require-secure-aggregation={required}, secagg={cfg.secagg.name}): its own "
            "test metrics and row count would leave the site in the clear")


def check_cohort_floor(settings: SiteSettings, cohort: int, threshold: int) -> None:
    """Refuse a SecAgg+ round whose verified cohort or reconstruction threshold is
    below the site's own floor."""
    if cohort < settings.policy.min_cohort:
        raise SitePolicyError(
            f"site {settings.site} joins a secure aggregation round of at least "
            f"{settings.policy.min_cohort} sites (min-cohort), but only {cohort} signed "
            "advertisements were received this round")
    if threshold < settings.policy.min_threshold:
        raise SitePolicyError(
            f"site {settings.site} needs a reconstruction threshold of at least "
            f"{settings.policy.min_threshold} (min-threshold), but this round's is "
            f"t={threshold}")


def check_synthesis_allowed(cfg: ExperimentConfig, settings: SiteSettings) -> None:
    """Refuse to publish a synthetic table that is not DP unless the site opted in."""
    if not cfg.synthetic.private and not settings.policy.allow_nondp_synthetic:
        raise SitePolicyError(
            f"site {settings.site} publishes only differentially private synthetic tables, but "
            f"this run asks for synthetic.synthesizer={cfg.synthetic.synthesizer} (NOT DP); the "
            "site must set allow-nondp-synthetic=true in its own settings to publish it"
        )


def check_noise_floor(settings: SiteSettings, noise_multiplier: float) -> None:
    """Refuse a DP-SGD plan whose noise multiplier is below the site's own floor."""
    if noise_multiplier < settings.policy.min_noise_multiplier:
        raise SitePolicyError(
            f"site {settings.site} trains with a noise multiplier of at least "
            f"{settings.policy.min_noise_multiplier:g}, but this run's settings give "
            f"{noise_multiplier:.3f}; ask the coordinator for a smaller privacy.epsilon "
            "(which calibrates more noise)"
        )
