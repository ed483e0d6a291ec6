"""SecAgg+ parameters, checked once: what every site and the server agree on."""

from __future__ import annotations

from dataclasses import dataclass

from conf.errors import ConfigError
from conf.schema import SecAggConfig
from privacy.secagg.errors import SecAggError
from privacy.secagg.graph import default_neighbours
from privacy.secagg.quantize import Quantizer, check_capacity


class CohortTooSmallError(SecAggError):
    """Too few sites (or neighbours) for the configured minimum or threshold."""


@dataclass(frozen=True)
class SecAggParams:
    """One round's protocol settings (the ``secagg`` config group).

    ``neighbours`` is k, the degree of the random communication graph; each site's
    secrets are Shamir-shared among its k neighbours with ``threshold`` t shares needed
    to reconstruct. A round completes while every surviving site keeps at least t live
    neighbours; with fewer than ``min_cohort`` sites a site refuses to take part.
    """

    neighbours: int
    threshold: int
    clipping_range: float
    quantization_bits: int
    modulus_bits: int
    min_cohort: int
    stage_timeout: float

    def __post_init__(self) -> None:
        if self.neighbours < 2:
            raise ConfigError(f"secagg.neighbours={self.neighbours}: must be >= 2")
        if not self.neighbours / 2 < self.threshold <= self.neighbours:
            raise ConfigError(
                f"secagg.threshold={self.threshold}: must be above half of secagg.neighbours "
                f"and at most secagg.neighbours ({self.neighbours}): at or below half, a "
                "coordinator could collect shares of both secrets of one site; above the "
                "neighbours, nothing could be reconstructed"
            )
        if self.min_cohort < self.threshold:
            raise ConfigError(
                f"secagg.min_cohort={self.min_cohort}: must be >= secagg.threshold "
                f"({self.threshold})"
            )
        if not self.stage_timeout > 0:
            raise ConfigError(f"secagg.stage_timeout={self.stage_timeout}: must be > 0")
        Quantizer(self.clipping_range, self.quantization_bits, self.modulus_bits)

    @classmethod
    def for_cohort(cls, cfg: SecAggConfig, cohort: int) -> SecAggParams:
        """The parameters for a round of ``cohort`` sites; 0 in the config means derived:
        k = ``default_neighbours(cohort)``, t = k // 2 + 1, min_cohort = t. An odd k is
        rounded up, as the graph does (``graph.neighbour_graph``), and capped at the
        complete graph, so k is the most neighbours any site gets."""
        if cohort < 3:
            raise CohortTooSmallError(f"secure aggregation needs at least 3 sites per round, "
                                      f"got {cohort}")
        k = min(_even(cfg.neighbours or default_neighbours(cohort)), cohort - 1)
        t = cfg.threshold or k // 2 + 1
        params = cls(neighbours=k, threshold=t, clipping_range=cfg.clipping_range,
                     quantization_bits=cfg.quantization_bits, modulus_bits=cfg.modulus_bits,
                     min_cohort=cfg.min_cohort or t, stage_timeout=cfg.stage_timeout)
        params.check_sites(cohort)
        if cohort * cfg.max_weight >= 2**cfg.modulus_bits:
            raise ConfigError(
                f"secagg.max_weight={cfg.max_weight}: {cohort} sites x max_weight must stay "
                f"below 2^secagg.modulus_bits ({2**cfg.modulus_bits}); lower max_weight or "
                "raise modulus_bits")
        return params

    def check_sites(self, sites: int) -> None:
        """ConfigError if the modulus cannot hold the sum of ``sites`` inputs."""
        check_capacity(
            Quantizer(self.clipping_range, self.quantization_bits, self.modulus_bits), sites)


def _even(k: int) -> int:
    return k + k % 2
