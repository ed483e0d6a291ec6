"""Every simulated site's policy: ``simulation.site_policy`` with unset keys derived
from the run (the experimenter is every simulated site)."""

from __future__ import annotations

import dataclasses

from conf.schema import ExperimentConfig
from conf.site_policy import SitePolicy


def simulated_site_policy(cfg: ExperimentConfig) -> SitePolicy:
    """The policy the launcher writes into each simulated site's settings: the run opts
    the sites in to less privacy exactly when it claims no record-level DP
    (docs/synthetic-federated.md), and to seeded noise when it is reproducible."""
    from_run = {
        "allow_nonprivate": not cfg.privacy.record_level,
        "allow_reproducible": cfg.reproducible,
        "allow_nondp_synthetic": not cfg.privacy.record_level,
        "allow_synthetic_statistics": not cfg.privacy.record_level,
    }
    chosen = {name: value for name, value in
              dataclasses.asdict(cfg.simulation.site_policy).items() if value is not None}
    return SitePolicy(**{**from_run, **chosen})
