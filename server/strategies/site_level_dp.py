"""DP-FedAvg around a mean strategy: site-level differential privacy at the coordinator.

A strategy decorator (like Flower's DP wrappers, whose noise comes from numpy's global
Mersenne Twister and whose mean divides by the number of replies; see
docs/privacy.md): it samples the round's cohort by Poisson sampling with the OS CSPRNG
(``privacy.site_level.poisson_cohort``), lets the inner strategy (FedAvg or FedProx,
built with ``fraction_train=1`` and ``min_sites=1``, so it takes whatever cohort was
drawn) configure exactly those sites, and replaces the inner aggregate by
``SiteLevelPlan.noisy_sum`` of the replies' clipped updates over the expected cohort.
Under secure aggregation the one reply carries the survivors' mean of clipped updates, so
their sum is that mean times their count. An empty cohort, or one whose sites all
dropped, releases the noise alone. Each release is accounted; a round whose release
would take the run past ``privacy.client.epsilon`` (fewer usable sites raise the sampling
rate) is not started and the run stops.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import secrets
from collections.abc import Iterable
from typing import Any

import numpy as np
from flwr.app import ArrayRecord, ConfigRecord, Message, MetricRecord
from flwr.serverapp import Grid
from flwr.serverapp.strategy import Strategy

from conf import protocol
from conf.schema import ExperimentConfig
from privacy.dpsgd import debug_seed
from privacy.events import GaussianEvent
from privacy.noise import NoiseSource, noise_source
from privacy.site_level import SAMPLING, SiteLevelPlan, cohort_size, poisson_cohort
from privacy.vectors import flatten
from server.arrays import add_update
from server.errors import SiteLevelBudgetError
from server.secure_aggregation import secure_survivors
from server.strategies.registry import build_strategy

log = logging.getLogger("privfl")


class _CohortGrid:
    """A view of the grid whose node list is the sampled cohort."""

    def __init__(self, grid: Grid, cohort: list[int]) -> None:
        self._grid = grid
        self._cohort = cohort

    def get_node_ids(self) -> list[int]:
        return list(self._cohort)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._grid, name)


@dataclasses.dataclass
class _Round:
    arrays: ArrayRecord
    cohort: int
    event: GaussianEvent
    epsilon_after: float


class SiteLevelDP(Strategy):
    """Decorates a FedAvg-like ``inner`` strategy with DP-FedAvg."""

    def __init__(self, inner: Strategy, cfg: ExperimentConfig) -> None:
        self.inner = inner
        self.cfg = cfg
        self.plan = SiteLevelPlan.for_run(cfg)
        self.events: list[GaussianEvent] = []
        self.epsilon = 0.0
        """Site-level ε spent by the releases so far (recomputed once per release)."""
        self._round: _Round | None = None

    @classmethod
    def around(cls, cfg: ExperimentConfig) -> SiteLevelDP:
        """The configured strategy, sampling nothing itself, under DP-FedAvg."""
        everyone = dataclasses.replace(cfg.strategy, fraction_train=1.0)
        return cls(build_strategy(dataclasses.replace(cfg, strategy=everyone, min_sites=1)),
                   cfg)

    def summary(self) -> None:
        self.inner.summary()

    def configure_train(self, server_round: int, arrays: ArrayRecord, config: ConfigRecord,
                        grid: Grid) -> Iterable[Message]:
        population = list(grid.get_node_ids())
        size = cohort_size(len(population), self.cfg.strategy.fraction_train,
                           self.cfg.min_sites)
        event = self.plan.release(str(grid.run.run_id), server_round, size, len(population))
        after = self.plan.epsilon([*self.events, event])
        if after > self.plan.target_epsilon:
            raise SiteLevelBudgetError(
                f"round {server_round} would take site-level ε to {after:.3f} > "
                f"privacy.client.epsilon={self.plan.target_epsilon:g} (sampling {size} of "
                f"{len(population)} usable sites); stopping before releasing it")
        cohort = poisson_cohort(population, event.sample_rate, self._sampler(server_round))
        messages = list(self.inner.configure_train(server_round, arrays, config,
                                                   _CohortGrid(grid, cohort)) if cohort else [])
        log.info("round %d: site-level DP-FedAvg cohort %d of %d usable sites (Poisson, rate "
                 "%.3f, expected %d)", server_round, len(cohort), len(population),
                 event.sample_rate, size)
        self._round = _Round(arrays, size, event, after)
        return messages

    def aggregate_train(self, server_round: int, replies: Iterable[Message]
                        ) -> tuple[ArrayRecord | None, MetricRecord | None]:
        replies = list(replies)
        pending, self._round = self._round, None
        _, metrics = self.inner.aggregate_train(server_round, replies) if replies else (None,
                                                                                        None)
        if pending is None:
            return None, metrics
        current = flatten(pending.arrays.to_numpy_ndarrays())
        updates = [flatten(r.content[protocol.ARRAYS].to_numpy_ndarrays()) - current
                   for r in replies]
        survivors = secure_survivors(replies[0]) if replies else None
        noise = self._noise(server_round)
        if survivors is not None:  # one aggregate: the mean of the survivors' clipped updates
            clipped_sum = updates[0] * survivors
        elif updates:
            clipped_sum = self.plan.clipped_sum(updates)
        else:  # nobody sampled, or every sampled site dropped: the sum over no site
            clipped_sum = np.zeros_like(current)
        noisy = self.plan.noisy_sum(clipped_sum, pending.cohort, noise)
        self.events.append(pending.event)
        self.epsilon = pending.epsilon_after
        log.info("round %d: site-level DP-FedAvg noise std %.4g on the mean of %d/%d "
                 "sites; site-level ε so far %.3f", server_round,
                 self.plan.noise_std(pending.cohort), survivors or len(replies),
                 pending.cohort, self.epsilon)
        return add_update(pending.arrays, noisy), metrics

    def configure_evaluate(self, server_round: int, arrays: ArrayRecord, config: ConfigRecord,
                           grid: Grid) -> Iterable[Message]:
        return self.inner.configure_evaluate(server_round, arrays, config, grid)

    def aggregate_evaluate(self, server_round: int, replies: Iterable[Message]
                           ) -> MetricRecord | None:
        return self.inner.aggregate_evaluate(server_round, replies)

    def report(self) -> dict[str, Any]:
        """The site-level entry of ``privacy.json``."""
        return {
            "unit": "site",
            "mechanism": "DP-FedAvg: update clipped to an L2 norm at the site, Gaussian noise "
                         "on the aggregate added by the coordinator",
            "private": self.cfg.site_private,
            "epsilon": self.epsilon,
            "target_epsilon": self.plan.target_epsilon,
            "delta": self.plan.delta,
            "accountant": self.plan.accountant,
            "noise_multiplier": self.plan.noise_multiplier,
            "clipping_norm": self.plan.clipping_norm,
            "releases": len(self.events),
            "sample_rates": [e.sample_rate for e in self.events],
            "sampling": SAMPLING,
        }

    def _sampler(self, server_round: int) -> random.Random:
        """The OS CSPRNG, or seeded from the config under ``reproducible=true``."""
        if self.cfg.reproducible:
            return random.Random(debug_seed(self.cfg.seed, "site-level-cohort", server_round))
        return secrets.SystemRandom()

    def _noise(self, server_round: int) -> NoiseSource:
        """The ChaCha20 CSPRNG, or seeded from the config under ``reproducible=true``."""
        return noise_source(debug_seed(self.cfg.seed, "site-level", server_round)
                            if self.cfg.reproducible else None)
