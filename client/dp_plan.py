"""The site's DP-SGD plan for one run, fixed before round 1.

The site calibrates its noise multiplier once for the whole planned run (rounds x
local steps at its own sample rate), so that this run adds at most
``privacy.epsilon`` to its ledger under its own δ and the chosen accountant. When the
run also publishes a DP synthetic table (``synthetic.publish`` with ``dp_mst``), that
release is part of the same ε: DP-SGD is calibrated so that the synthesis (charged as
round 0) and every planned round compose to at most ``privacy.epsilon``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from client.site_policy import check_noise_floor
from conf.errors import ConfigError
from conf.schema import ExperimentConfig
from conf.site import SiteSettings
from privacy.accountants import calibrate_noise_multiplier_after, quiet_largest_alpha
from privacy.dpsgd import sample_rate, steps_per_epoch
from privacy.events import DpSgdEvent, GaussianEvent, PrivacyEvent
from privacy.release import check_delta

SYNTHESIS_ROUND = 0
"""The ledger round of a run's synthetic-data release (before round 1)."""


@dataclass(frozen=True)
class DpPlan:
    """σ, q and steps of every round of this run at this site, and the σ of the run's DP
    synthesis (None when the run publishes no DP table)."""

    noise_multiplier: float
    sample_rate: float
    steps_per_round: int
    rounds: int
    seeded_noise: bool
    synthesis_noise_multiplier: float | None = None

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

    def run_events(self, run_id: str) -> list[PrivacyEvent]:
        """Every event the whole planned run would charge: the DP synthesis (if any) and
        every round."""
        synthesis: list[PrivacyEvent] = []
        if self.synthesis_noise_multiplier is not None:
            synthesis.append(_synthesis_event(run_id, self.synthesis_noise_multiplier))
        return [*synthesis, *(self.event(run_id, r) for r in range(1, self.rounds + 1))]


def plan_dp(cfg: ExperimentConfig, settings: SiteSettings, rows: int) -> DpPlan:
    """Calibrate the site's plan from its row count and its own δ; refuse it below the
    site's noise floor."""
    q, steps = check_plan_inputs(cfg, settings, rows)
    synthesis = synthesis_noise_multiplier(cfg, settings)
    prior = ((synthesis, 1.0, 1),) if synthesis is not None else ()
    sigma = _calibrate(cfg.privacy.epsilon, settings.delta, q, steps * cfg.rounds,
                       cfg.privacy.accountant, prior)
    check_noise_floor(settings, sigma)
    return DpPlan(sigma, q, steps, cfg.rounds, seeded_noise=cfg.reproducible,
                  synthesis_noise_multiplier=synthesis)


def planned_events(cfg: ExperimentConfig, settings: SiteSettings, rows: int, run_id: str
                   ) -> list[PrivacyEvent]:
    """What the whole run would charge this site: DP-SGD rounds and/or a DP synthesis."""
    if cfg.privacy.record_level:
        return plan_dp(cfg, settings, rows).run_events(run_id)
    sigma = synthesis_noise_multiplier(cfg, settings)
    return [_synthesis_event(run_id, sigma)] if sigma is not None else []


def synthesis_noise_multiplier(cfg: ExperimentConfig, settings: SiteSettings) -> float | None:
    """σ of the one Gaussian step whose RDP curve equals the DP synthesis' (see
    ``synthetic.dp.accounting``), or None when the run charges no synthesis."""
    if not cfg.synthetic.charged:
        return None
    return _mst_sigma(cfg.synthetic.epsilon, settings.delta)


def check_plan_inputs(cfg: ExperimentConfig, settings: SiteSettings, rows: int
                      ) -> tuple[float, int]:
    """The site's sample rate and steps per round; refuses δ >= 1/rows or a batch > rows."""
    check_delta_for_rows(settings, rows)
    q = sample_rate(rows, cfg.task.batch_size)
    return q, cfg.local_epochs * steps_per_epoch(rows, cfg.task.batch_size)


def check_delta_for_rows(settings: SiteSettings, rows: int) -> None:
    """DeltaTooLargeError unless the site's δ is below 1/(its training rows)."""
    check_delta(settings.site, settings.delta, rows, "delta")


def _synthesis_event(run_id: str, sigma: float) -> GaussianEvent:
    from synthetic.dp.accounting import MST_LABEL

    return GaussianEvent(run_id=run_id, round=SYNTHESIS_ROUND, noise_multiplier=sigma,
                         label=MST_LABEL)


@lru_cache(maxsize=64)
def _mst_sigma(epsilon: float, delta: float) -> float:
    from synthetic.dp.accounting import mst_noise_multiplier

    with quiet_largest_alpha():
        return mst_noise_multiplier(epsilon, delta)


@lru_cache(maxsize=64)
def _calibrate(epsilon: float, delta: float, q: float, steps: int, accountant: str,
               prior: tuple[tuple[float, float, int], ...]) -> float:
    """Calibration is deterministic and costs up to seconds (prv): once per process."""
    return calibrate_noise_multiplier_after(epsilon, delta, q, steps, accountant, prior)
