"""The synthesizers ``privfl synth`` can fit, by name: SDV's four single-table
synthesizers and DP MST, each behind the same two steps (``fit``, then ``sample``).

Fitted synthesizers live in memory only: privfl never saves one (SDV saves them as
cloudpickles, and loading a pickle runs whatever code it holds).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import pandas as pd

from conf.schema import FeatureSpec
from conf.synth_schema import SynthesizerConfig


class Synthesizer(Protocol):
    """Fit on the training rows, then sample new rows."""

    def fit(self, train: pd.DataFrame) -> None: ...

    def sample(self, rows: int) -> pd.DataFrame: ...


@dataclass(frozen=True)
class SynthesizerInfo:
    """What the registry knows about a synthesizer."""

    min_rows: int
    """Fewest rows the table must have (before the holdout is set aside)."""
    private: bool
    """True when its output is differentially private (charged to the site's ledger)."""


SYNTHESIZERS: dict[str, SynthesizerInfo] = {
    # A Gaussian copula has few parameters per column; below ~100 rows its marginals and
    # correlations are noise, and the 20-row holdout the privacy checks need is the floor.
    "gaussian_copula": SynthesizerInfo(min_rows=100, private=False),
    # GANs and VAEs train on mini-batches of 500 rows by default; with fewer rows than one
    # or two batches they memorise or collapse.
    "ctgan": SynthesizerInfo(min_rows=500, private=False),
    "tvae": SynthesizerInfo(min_rows=500, private=False),
    "copulagan": SynthesizerInfo(min_rows=500, private=False),
    # MST's noise is fixed per marginal: on a few hundred rows it swamps the counts.
    "dp_mst": SynthesizerInfo(min_rows=200, private=True),
}


class SdvSynthesizer:
    """One of SDV 2.0's single-table synthesizers (dict-of-tables API)."""

    def __init__(self, cfg: SynthesizerConfig, metadata: dict[str, Any], *, seed: int) -> None:
        from sdv.metadata import Metadata

        with _sdv_quiet():
            self._metadata = Metadata.load_from_dict(metadata)
        self._table = next(iter(metadata["tables"]))
        self._cfg = cfg
        self._seed = seed
        self._model: Any = None

    def fit(self, train: pd.DataFrame) -> None:
        """Fit on ``train`` (seeded from the config: not secret experiment randomness)."""
        _seed_libraries(self._seed)
        with _sdv_quiet():
            self._model = _sdv_model(self._cfg, self._metadata)
            self._model.fit({self._table: train})

    def sample(self, rows: int) -> pd.DataFrame:
        """``rows`` new rows."""
        with _sdv_quiet():
            return self._model.sample(rows)[self._table]


class MstSynthesizer:
    """DP MST over the declared columns (``synthetic.dp.mst``): fits and samples in one
    pass, so ``fit`` does both and ``sample`` hands the rows over."""

    def __init__(self, cfg: SynthesizerConfig, columns: Sequence[FeatureSpec], *, rho: float,
                 rows: int | None, integers: Sequence[str] = (),
                 progress: Callable[[str], None] | None = None) -> None:
        self._cfg = cfg
        self._columns = tuple(columns)
        self._integers = tuple(integers)
        self._rho = rho
        self._rows = rows
        self._progress = progress
        self._sampled: pd.DataFrame | None = None

    def fit(self, train: pd.DataFrame) -> None:
        """Measure the noisy marginals and sample ``rows`` rows (None: MST's DP estimate of
        the real row count). The DP noise comes from OS entropy: no seed is ever passed."""
        from synthetic.dp.mst import fit_sample_mst

        self._sampled = fit_sample_mst(train, self._columns, self._rho, self._rows,
                                       bins=self._cfg.bins, integers=self._integers,
                                       complete=self._cfg.complete, seed=None,
                                       progress=self._progress)

    def sample(self, rows: int | None) -> pd.DataFrame:
        """The rows sampled by ``fit`` (MST samples while fitting); integer columns without
        a missing value as integers (post-processing: no privacy cost)."""
        if self._sampled is None or rows != self._rows:
            raise RuntimeError(f"MST sampled {self._rows} rows while fitting; asked for {rows}")
        table = self._sampled.copy()
        for name in self._integers:
            if table[name].notna().all():
                table[name] = table[name].astype("int64")
        return table


def _sdv_model(cfg: SynthesizerConfig, metadata: Any) -> Any:
    from sdv.single_table import (
        CopulaGANSynthesizer,
        CTGANSynthesizer,
        GaussianCopulaSynthesizer,
        TVAESynthesizer,
    )

    common = {"enforce_min_max_values": cfg.enforce_min_max_values}
    if cfg.name == "gaussian_copula":
        return GaussianCopulaSynthesizer(metadata, default_distribution=cfg.default_distribution,
                                         **common)
    gan = {"epochs": cfg.epochs, "batch_size": cfg.batch_size, "verbose": True, **common}
    if cfg.name == "ctgan":
        return CTGANSynthesizer(metadata, pac=cfg.pac, **gan)
    if cfg.name == "tvae":
        return TVAESynthesizer(metadata, **gan)
    if cfg.name == "copulagan":
        return CopulaGANSynthesizer(metadata, pac=cfg.pac,
                                    default_distribution=cfg.default_distribution, **gan)
    raise ValueError(f"{cfg.name} is not an SDV synthesizer")


def _seed_libraries(seed: int) -> None:
    """SDV's GANs draw from torch's and numpy's global generators while training."""
    import numpy as np
    import torch

    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)  # the legacy global generator CTGAN draws from


@contextlib.contextmanager
def _sdv_quiet() -> Iterator[None]:
    """SDV, RDT and Copulas warn about their own internals (future defaults, metadata
    saving tips); none of it is actionable for a privfl user."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        yield
