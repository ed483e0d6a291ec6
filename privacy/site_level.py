"""Site-level DP (DP-FedAvg, McMahan et al. 2018) arithmetic, without Flower.

Each round the coordinator samples ``cohort`` of the ``population`` usable sites with the
OS CSPRNG, clips every site's update to L2 norm S (at the site before secure
aggregation; again at the coordinator for plain updates), and releases

    sum of clipped updates / cohort  +  N(0, (z * S / cohort)^2)

The fixed denominator makes the sensitivity S / cohort whatever the number of sites that
actually replied (dropouts shrink the update; they never weaken the guarantee), so the
noise has the same standard deviation every round for a fixed cohort. A round is one
Gaussian release with noise multiplier z on a subsample of rate cohort / population,
accounted with the run's accountant (RDP by default) as a Poisson-subsampled Gaussian;
see docs/privacy.md for that assumption.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from conf.schema import ExperimentConfig
from privacy.accountants import calibrate_noise_multiplier, epsilon_of
from privacy.events import GaussianEvent
from privacy.noise import NoiseSource
from privacy.vectors import clip_l2

RELEASE_LABEL = "site-level DP-FedAvg aggregate"


def cohort_size(population: int, fraction: float, minimum: int) -> int:
    """Sites sampled per round: Flower's FedAvg rule, at most the population."""
    return min(population, max(int(population * fraction), minimum))


@dataclass(frozen=True)
class SiteLevelPlan:
    """The run's DP-FedAvg settings, calibrated before round 1."""

    noise_multiplier: float
    clipping_norm: float
    target_epsilon: float
    delta: float
    accountant: str

    @classmethod
    def for_run(cls, cfg: ExperimentConfig) -> SiteLevelPlan:
        """Calibrate z so that ``cfg.rounds`` releases at the planned sampling rate spend at
        most ``privacy.client.epsilon``."""
        client = cfg.privacy.client
        cohort = cohort_size(cfg.sites, cfg.strategy.fraction_train, cfg.min_sites)
        z = calibrate_noise_multiplier(client.epsilon, client.delta, cohort / cfg.sites,
                                       cfg.rounds, cfg.privacy.accountant,
                                       key="privacy.client.epsilon")
        return cls(z, client.clipping_norm, client.epsilon, client.delta,
                   cfg.privacy.accountant)

    def noise_std(self, cohort: int) -> float:
        """Standard deviation of the noise on the released mean update."""
        return self.noise_multiplier * self.clipping_norm / cohort

    def release(self, run_id: str, server_round: int, cohort: int,
                population: int) -> GaussianEvent:
        """The privacy event of releasing one round's noisy aggregate."""
        return GaussianEvent(run_id=run_id, round=server_round,
                             noise_multiplier=self.noise_multiplier, label=RELEASE_LABEL,
                             sample_rate=cohort / population)

    def epsilon(self, events: Sequence[GaussianEvent]) -> float:
        """Site-level ε of ``events`` composed, at this plan's δ and accountant."""
        return epsilon_of(events, self.delta, self.accountant)

    def noisy_mean(self, updates: Sequence[np.ndarray], cohort: int,
                   noise: NoiseSource) -> np.ndarray:
        """Sum of the clipped ``updates`` / ``cohort`` plus Gaussian noise."""
        if not updates:
            raise ValueError("no update to release")
        total = np.sum([clip_l2(u, self.clipping_norm) for u in updates], axis=0)
        return self.noisy_sum(total, cohort, noise)

    def noisy_sum(self, clipped_sum: np.ndarray, cohort: int, noise: NoiseSource
                  ) -> np.ndarray:
        """``clipped_sum`` (of updates each clipped to the clipping norm, as under secure
        aggregation the sites do) / ``cohort`` plus Gaussian noise."""
        return (clipped_sum / cohort
                + noise.normal(clipped_sum.shape, self.noise_std(cohort)).numpy())
