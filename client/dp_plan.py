"""The site's DP-SGD plan for one run, fixed before round 1.

The site calibrates its noise multiplier once for the whole planned run (rounds x
local steps at its own sample rate), so that this run adds at most
``privacy.epsilon`` to its ledger under its own δ and the chosen accountant.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from conf.errors import ConfigError
from conf.schema import ExperimentConfig
from conf.site import SiteSettings
from privacy.accountants import calibrate_noise_multiplier
from privacy.dpsgd import sample_rate, steps_per_epoch
from privacy.errors import DeltaTooLargeError
from privacy.events import DpSgdEvent


@dataclass(frozen=True)
class DpPlan:
    """σ, q and steps of every round of this run at this site."""

    noise_multiplier: float
    sample_rate: float
    steps_per_round: int
    rounds: int
    seeded_noise: bool

    def event(self, run_id: str, server_round: int) -> DpSgdEvent:
        """The ledger event for one round; only rounds 1..rounds were calibrated for."""
        if not 1 <= server_round <= self.rounds:
            raise ConfigError(
                f"round {server_round} is outside this run's planned rounds 1..{self.rounds}; "
                "the site calibrated its noise for exactly those rounds and refuses others"
            )
        return DpSgdEvent(
            run_id=run_id,
            round=server_round,
            noise_multiplier=self.noise_multiplier,
            sample_rate=self.sample_rate,
            steps=self.steps_per_round,
            seeded_noise=self.seeded_noise,
        )

    def run_events(self, run_id: str) -> list[DpSgdEvent]:
        """Every event the whole planned run would charge."""
        return [self.event(run_id, r) for r in range(1, self.rounds + 1)]


def plan_dp(cfg: ExperimentConfig, settings: SiteSettings, rows: int) -> DpPlan:
    """Calibrate the site's plan from its row count and its own δ."""
    q, steps = check_plan_inputs(cfg, settings, rows)
    sigma = _calibrate(cfg.privacy.epsilon, settings.delta, q, steps * cfg.rounds,
                       cfg.privacy.accountant)
    return DpPlan(sigma, q, steps, cfg.rounds, seeded_noise=cfg.reproducible)


def check_plan_inputs(cfg: ExperimentConfig, settings: SiteSettings, rows: int
                      ) -> tuple[float, int]:
    """The site's sample rate and steps per round; refuses δ >= 1/rows or a batch > rows."""
    if settings.delta >= 1 / rows:
        raise DeltaTooLargeError(
            f"site {settings.site}: delta={settings.delta:g} is not below 1/(its {rows} "
            f"training records) = {1 / rows:.3g}; set a smaller delta for this site "
            "(privacy.delta in simulation)"
        )
    q = sample_rate(rows, cfg.task.batch_size)
    return q, cfg.local_epochs * steps_per_epoch(rows, cfg.task.batch_size)


@lru_cache(maxsize=64)
def _calibrate(epsilon: float, delta: float, q: float, steps: int, accountant: str) -> float:
    """Calibration is deterministic and costs up to seconds (prv): once per process."""
    return calibrate_noise_multiplier(epsilon, delta, q, steps, accountant)
