"""MST: differentially private synthetic data from a tree of noisy 2-way marginals.

McKenna, Miklau and Sheldon (2021), "Winning the NIST Contest: A scalable and general
approach to differentially private synthetic data". With ``d`` declared columns, the
budget ρ (zCDP) is split into thirds:

1. every 1-way marginal is measured with Gaussian noise σ₁ = √(3d / 2ρ) (L2 sensitivity 1
   per marginal under adding or removing one record: d/(2σ₁²) = ρ/3);
   the cells of a column whose noisy count is below 3σ₁ are then merged (domain
   compression, post-processing);
2. d - 1 pairs forming a spanning tree are selected with the exponential mechanism,
   ε = √(8(ρ/3) / (d - 1)) each (ε²/8-zCDP each), scored by the L1 error of the 1-way
   model on each pair;
3. the selected pair marginals are measured with Gaussian noise σ₂ = √(3(d - 1) / 2ρ).

Neighbouring tables differ by adding or removing one record (as for DP-SGD's Poisson
sampling), which bounds each count's change by 1 and each pair score's by 1. mbi
estimates a graphical model from all the noisy marginals; rows are sampled from it and
mapped back to values; the number of records is estimated from the noisy counts. With
one column, all of ρ goes to its 1-way marginal.
Accounting (ρ from (ε, δ), ledger events): ``synthetic.dp.accounting``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from conf.schema import FeatureSpec
from privacy.noise import NoiseSource, noise_source
from synthetic.dp.compression import compress_measurement, expand, merge_rare
from synthetic.dp.domain import decode_table, encode_table, make_codecs
from synthetic.dp.estimation import Measurement, estimate_marginals
from synthetic.dp.mechanisms import gaussian
from synthetic.dp.sampling import sample_tree
from synthetic.dp.selection import Pair, pair_counts, pair_errors, spanning_tree

ESTIMATION_ITERS = 500
"""Mirror-descent steps per model fit (see ``fit_sample_mst``'s ``iters``)."""


def fit_sample_mst(
    data: pd.DataFrame,
    columns: Sequence[FeatureSpec],
    rho: float,
    rows: int | None,
    *,
    bins: int = 32,
    integers: Collection[str] = (),
    complete: bool = False,
    iters: int = ESTIMATION_ITERS,
    seed: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """A synthetic table of ``rows`` rows with the declared ``columns`` (names, order), ρ-zCDP.
    ``rows=None`` samples as many rows as the noisy 1-way marginals estimate the real table
    holds (post-processing of measured counts: DP, no further cost), never the exact count.

    The domain comes from the declarations alone (``synthetic.dp.domain``: ``bins`` bins
    per numeric column, the columns named in ``integers`` integer-valued; with
    ``complete``, no cells for missing or undeclared values); columns of
    ``data`` that are not declared are ignored. ``iters`` mirror-descent steps fit each
    model. Noise is drawn from ``privacy.noise.noise_source(seed)`` (the ChaCha20
    CSPRNG): a ``seed`` makes the output reproducible for debugging, and the caller
    must then mark the release as NOT private. ``progress`` receives one line after each
    stage; the lines carry only what the release itself reveals (merged domain sizes,
    the selected pairs).

    Raises ConfigError for a bad declaration and ValueError for a bad ``rho`` or ``rows``,
    a declared column missing from ``data`` or an empty ``data``.
    """
    if not isinstance(rho, int | float) or isinstance(rho, bool) or not 0 < rho < math.inf:
        raise ValueError(f"rho must be a positive number, got {rho!r}")
    if rows is not None and (not isinstance(rows, int) or isinstance(rows, bool) or rows < 1):
        raise ValueError(f"rows must be an integer >= 1 or None, got {rows!r}")
    codecs = make_codecs(columns, bins, integers, complete)
    codes = encode_table(data, codecs)
    report = progress or (lambda line: None)
    noise = noise_source(seed)
    sigma_one, epsilon, sigma_two = split_budget(rho, len(codecs))

    found = _measure_one_way(codes, {c.name: c.size for c in codecs}, sigma_one, noise)
    report(
        f"measured {len(codecs)} 1-way marginals; {sum(found.sizes.values())} cells after "
        "merging rare ones"
    )
    tree: list[Pair] = []
    if len(codecs) > 1:
        tree = _select(found, epsilon, iters, noise)
        report(f"selected {len(tree)} pairs: {tree}")
    for pair in tree:  # stage 3
        counts = pair_counts(found.codes, found.sizes, pair).ravel()
        found.measurements.append(
            Measurement(pair, gaussian(counts, sigma_two, noise), sigma_two)
        )
    wanted = [*((name,) for name in found.sizes), *tree]
    marginals = estimate_marginals(found.sizes, found.measurements, found.total, wanted, iters)
    report(f"estimated the model from {len(found.measurements)} noisy marginals")
    rows = rows if rows is not None else max(1, round(found.total))
    sampled = sample_tree(marginals, list(found.sizes), tree, rows, noise)
    cells = {name: expand(sampled[name], found.mappings[name], noise) for name in sampled}
    report(f"sampled {rows} rows")
    return decode_table(cells, codecs, noise)


@dataclass
class _Compressed:
    """The table over the compressed domain, with what has been measured of it."""

    codes: dict[str, np.ndarray]
    sizes: dict[str, int]
    mappings: dict[str, np.ndarray]
    measurements: list[Measurement]
    total: float


def _measure_one_way(
    codes: dict[str, np.ndarray],
    sizes: dict[str, int],
    sigma: float,
    noise: NoiseSource,
) -> _Compressed:
    """Stage 1: noisy 1-way counts, then the cells below 3σ merged (post-processing)."""
    noisy = {
        name: gaussian(np.bincount(codes[name], minlength=sizes[name]), sigma, noise)
        for name in codes
    }
    mappings = {name: merge_rare(y, 3 * sigma) for name, y in noisy.items()}
    measurements = []
    for name, y in noisy.items():
        values, weights = compress_measurement(y, mappings[name])
        measurements.append(Measurement((name,), values, sigma, weights))
    return _Compressed(
        codes={name: mappings[name][codes[name]] for name in codes},
        sizes={name: int(mappings[name].max()) + 1 for name in codes},
        mappings=mappings,
        measurements=measurements,
        total=_noisy_total(list(noisy.values())),
    )


def _select(
    found: _Compressed, epsilon: float, iters: int, noise: NoiseSource
) -> list[Pair]:
    """Stage 2: the spanning tree of pairs worst explained by the 1-way model."""
    singles = [(name,) for name in found.sizes]
    one_way = estimate_marginals(found.sizes, found.measurements, found.total, singles, iters)
    errors = pair_errors(found.codes, found.sizes, {a: one_way[(a,)] for a in found.sizes})
    return spanning_tree(errors, list(found.sizes), epsilon, noise)


def _noisy_total(noisy: Sequence[np.ndarray]) -> float:
    """The number of records, estimated from the noisy 1-way counts: the sums weighted by
    inverse variance (a sum of k cells has noise variance k σ₁²), at least 1."""
    weights = np.array([1 / len(y) for y in noisy])
    sums = np.array([y.sum() for y in noisy])
    return max(1.0, float(np.dot(weights, sums) / weights.sum()))


def split_budget(rho: float, columns: int) -> tuple[float, float, float]:
    """(σ₁, ε of each selection, σ₂): ρ in thirds, or all on the 1-way marginal of a
    single column (then ε and σ₂ are NaN: nothing is selected or measured in pairs)."""
    if columns == 1:
        return math.sqrt(1 / (2 * rho)), math.nan, math.nan
    third = rho / 3
    return (
        math.sqrt(columns / (2 * third)),
        math.sqrt(8 * third / (columns - 1)),
        math.sqrt((columns - 1) / (2 * third)),
    )
