"""SecAgg+ parameters, checked once: what every site and the server agree on."""

from __future__ import annotations

from dataclasses import dataclass

from conf.errors import ConfigError
from privacy.secagg.quantize import Quantizer, check_capacity


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

    def check_sites(self, sites: int) -> None:
        """ConfigError if the modulus cannot hold the sum of ``sites`` inputs."""
        check_capacity(
            Quantizer(self.clipping_range, self.quantization_bits, self.modulus_bits), sites)
