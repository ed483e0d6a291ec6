"""Site-level DP (DP-FedAvg, McMahan et al. 2018) arithmetic, without Flower.

Each round the coordinator samples its cohort by Poisson sampling: every usable site
joins independently with probability q = m / population (m: ``cohort_size``, the
expected cohort), drawn from the OS CSPRNG (:func:`poisson_cohort`). Every site's update
is clipped to L2 norm S (at the site before secure aggregation; again at the coordinator
for plain updates), and the coordinator releases

    sum of clipped updates / m  +  N(0, (z * S / m)^2)

The fixed denominator m makes the sensitivity S / m whatever the number of sites sampled
or replied (an empty cohort releases the noise alone; dropouts shrink the update; none
weakens the guarantee). A round is then exactly a Poisson-subsampled Gaussian mechanism
with noise multiplier z and rate q, which is what the run's accountant (RDP by default)
composes: add/remove-one-site neighbours, unit=site.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from conf.schema import ExperimentConfig
from privacy.accountants import calibrate_noise_multiplier, epsilon_of
from privacy.events import GaussianEvent
from privacy.noise import NoiseSource
from privacy.vectors import clip_l2

RELEASE_LABEL = "site-level DP-FedAvg aggregate"


SAMPLING = ("Poisson sampling: each usable site joins a round's cohort independently with "
            "probability sample_rate (expected cohort / usable sites), drawn with the OS "
            "CSPRNG; the mean divides by the expected cohort (fixed denominator); accounted "
            "as the Poisson-subsampled Gaussian mechanism, add/remove-one-site neighbours")


def cohort_size(population: int, fraction: float, minimum: int) -> int:
    """The expected cohort per round: Flower's FedAvg rule, at most the population."""
    return min(population, max(int(population * fraction), minimum))


def poisson_cohort(population: Sequence[int], rate: float, rng: random.Random) -> list[int]:
    """The sites of ``population`` that ``rng`` draws, each independently with ``rate``."""
    return [site for site in population if rng.random() < rate]


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
        """Standard deviation of the noise on the released mean update (``cohort``: the
        expected cohort, the fixed denominator)."""
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
        return self.noisy_sum(self.clipped_sum(updates), cohort, noise)

    def clipped_sum(self, updates: Sequence[np.ndarray]) -> np.ndarray:
        """The sum of ``updates``, each clipped to the clipping norm."""
        return np.sum([clip_l2(u, self.clipping_norm) for u in updates], axis=0)

    def noisy_sum(self, clipped_sum: np.ndarray, cohort: int, noise: NoiseSource
                  ) -> np.ndarray:
        """``clipped_sum`` (of updates each clipped to the clipping norm, as under secure
        aggregation the sites do) / ``cohort`` plus Gaussian noise."""
        return (clipped_sum / cohort
                + noise.normal(clipped_sum.shape, self.noise_std(cohort)).numpy())
