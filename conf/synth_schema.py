"""The typed schema of ``privfl synth``: frozen dataclasses, built with ``conf.validate.build``.

``validate_synth`` turns the composed Hydra config (``conf/synth.yaml`` plus one
``conf/synthesizer/*.yaml``) into a :class:`SynthConfig`; a bad value stops with one line
naming the key, the value and what is allowed. Public column declarations reuse
:class:`conf.schema.FeatureSpec` (name, type, levels, low, high).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from conf.errors import ConfigError
from conf.schema import SEED_RANGE, AccountantName, FeatureSpec, open_fraction, positive
from conf.validate import build

SynthesizerName = Literal["gaussian_copula", "ctgan", "tvae", "copulagan", "dp_mst"]
Distribution = Literal["beta", "truncnorm", "gaussian_kde", "norm", "uniform", "gamma"]

DP_SYNTHESIZERS = ("dp_mst",)
"""Synthesizers with a differential-privacy guarantee (charged to the site's ledger)."""
GAN_SYNTHESIZERS = ("ctgan", "copulagan")
"""Synthesizers whose ``batch_size`` must be a multiple of ``pac``."""


@dataclass(frozen=True)
class SynthesizerConfig:
    """One synthesizer and its parameters; each ``conf/synthesizer/<name>.yaml`` lists the
    keys its synthesizer takes (a key of another synthesizer is refused by Hydra)."""

    name: SynthesizerName
    # gaussian_copula, copulagan: the marginal distribution fitted to numeric columns
    default_distribution: Distribution = "beta"
    # SDV synthesizers: clip sampled numbers to the range seen in the training rows
    enforce_min_max_values: bool = True
    # ctgan, tvae, copulagan
    epochs: int = field(default=300, metadata={"ge": 1})
    batch_size: int = field(default=500, metadata={"ge": 2})
    pac: int = field(default=10, metadata={"ge": 1})
    # dp_mst: ε of this release (record-level) and the number of bins per numeric column
    epsilon: float = field(default=1.0, metadata=positive())
    bins: int = field(default=32, metadata={"ge": 2, "le": 1024})
    # dp_mst: the declared columns hold no missing value and only declared levels (public
    # knowledge); MST then spends no noise on missing/other cells, and such a row is refused
    complete: bool = False

    @property
    def private(self) -> bool:
        """True for a differentially private synthesizer."""
        return self.name in DP_SYNTHESIZERS


@dataclass(frozen=True)
class ChecksConfig:
    """Sizes of the privacy checks, which cost (synthetic rows) x (real rows): at most
    ``synthetic_rows`` synthetic rows are checked, against at most ``max_rows`` real rows
    (the training reference; the equal-size training and holdout samples), each drawn at
    random when the table is larger; the report says so. ``holdout_fraction`` of the real
    rows is held out of fitting for DCROverfittingProtection."""

    synthetic_rows: int = field(default=500, metadata={"ge": 10})
    max_rows: int = field(default=5000, metadata={"ge": 10})
    holdout_fraction: float = field(default=0.2, metadata={"gt": 0, "le": 0.5})


@dataclass(frozen=True)
class GateConfig:
    """The release gate: the synthetic table and its metadata are written only when every
    check passes (or ``force=true``)."""

    max_exact_copies: int = field(default=0, metadata={"ge": 0})
    max_unique_value_copies: int = field(default=0, metadata={"ge": 0})
    min_new_row_synthesis: float = field(default=0.9, metadata={"ge": 0, "le": 1})
    min_dcr_baseline_protection: float = field(default=0.03, metadata={"ge": 0, "le": 1})
    min_dcr_overfitting_protection: float = field(default=0.8, metadata={"ge": 0, "le": 1})


@dataclass(frozen=True)
class LedgerConfig:
    """The site's privacy ledger (``dp_mst`` only): its file, its key (null: beside it),
    site name, lifetime ε budget, δ and accountant. ``site`` null: taken from the existing
    ledger file. ``init``: create the ledger if it never existed (a site's first release)."""

    path: str | None = None
    key: str | None = None
    init: bool = False
    site: str | None = None
    budget: float = field(default=10.0, metadata=positive())
    delta: float = field(default=1e-5, metadata=open_fraction())
    accountant: AccountantName = "rdp"


@dataclass(frozen=True)
class SynthConfig:
    """A whole ``privfl synth`` invocation: the root of the composed ``synth`` config."""

    synthesizer: SynthesizerConfig
    data: str
    out: str
    review: str = ""
    report_in_release: bool = False
    drop: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    metadata: str | None = None
    rows: int | None = field(default=None, metadata={"ge": 1})
    force: bool = False
    seed: int = field(default=0, metadata=SEED_RANGE)
    columns: tuple[FeatureSpec, ...] = ()
    checks: ChecksConfig = field(default_factory=ChecksConfig)
    gate: GateConfig = field(default_factory=GateConfig)
    ledger: LedgerConfig = field(default_factory=LedgerConfig)
    output_dir: str = "."

    @property
    def review_dir(self) -> str:
        """Where the reports go (statistics of the real rows): ``review``, else beside
        ``out`` as ``<out>-review``."""
        return self.review or f"{self.out.rstrip('/')}-review"

    def declared(self, name: str) -> FeatureSpec | None:
        """The public declaration of column ``name``, if any."""
        return next((spec for spec in self.columns if spec.name == name), None)


def validate_synth(raw: Mapping[str, Any]) -> SynthConfig:
    """Validate a composed ``synth`` config; ConfigError (one line) on the first problem."""
    cfg = build(SynthConfig, raw, "")
    if Path(cfg.review_dir).resolve() == Path(cfg.out).resolve():
        raise ConfigError(f"review={cfg.review}: the same folder as out; the review folder holds "
                          "statistics of the real rows and must not be the release folder "
                          "(report_in_release=true puts a copy into out)")
    _check_columns(cfg)
    _check_drop_and_ids(cfg)
    syn = cfg.synthesizer
    if syn.name in GAN_SYNTHESIZERS and syn.batch_size % syn.pac:
        fitting = max(syn.pac, syn.batch_size // syn.pac * syn.pac)
        raise ConfigError(
            f"synthesizer.batch_size={syn.batch_size}: must be a multiple of synthesizer.pac "
            f"({syn.pac}); e.g. synthesizer.batch_size={fitting}")
    if syn.private:
        _check_dp(cfg)
    return cfg


def _check_drop_and_ids(cfg: SynthConfig) -> None:
    declared = {spec.name for spec in cfg.columns}
    for key, names in (("drop", cfg.drop), ("ids", cfg.ids)):
        for name in names:
            if name in declared:
                raise ConfigError(f"{key}: {name!r} is also declared in columns; declare each "
                                  "column once")
    both = set(cfg.drop) & set(cfg.ids)
    if both:
        raise ConfigError(f"drop and ids both name {sorted(both)[0]!r}; choose one")


def _check_columns(cfg: SynthConfig) -> None:
    seen: set[str] = set()
    for i, spec in enumerate(cfg.columns):
        key = f"columns[{i}]"
        if spec.name in seen:
            raise ConfigError(f"{key}.name={spec.name!r}: declared twice; declare each column once")
        seen.add(spec.name)
        if spec.type == "categorical":
            if not spec.levels:
                raise ConfigError(f"{key}.levels: missing for categorical column {spec.name!r}; "
                                  "list its public levels, e.g. levels: [\"no\", \"yes\"]")
            if len(set(spec.levels)) != len(spec.levels):
                raise ConfigError(f"{key}.levels: a level of {spec.name!r} is listed twice")
            if spec.low is not None or spec.high is not None:
                raise ConfigError(f"{key}: categorical column {spec.name!r} takes levels, not "
                                  "low/high")
        else:
            if spec.levels:
                raise ConfigError(f"{key}: numeric column {spec.name!r} takes low/high, not levels")
            if spec.low is not None and spec.high is not None and not spec.low < spec.high:
                raise ConfigError(f"{key}.high={spec.high:g}: must be > low ({spec.low:g})")


def _check_dp(cfg: SynthConfig) -> None:
    name = cfg.synthesizer.name
    if not cfg.columns:
        raise ConfigError(
            f"columns: missing; synthesizer={name} takes every column's bounds and levels from "
            "the config, never from the data: declare the columns to synthesize, e.g. "
            "columns=[{name:age,type:numeric,low:0,high:110}] or in a config file")
    if cfg.rows is None:
        raise ConfigError(
            f"rows: missing; synthesizer={name} releases exactly `rows` rows, and the table's "
            "own row count is not differentially private: give a number, e.g. rows=1000")
    if cfg.metadata is not None:
        raise ConfigError(
            f"metadata={cfg.metadata}: synthesizer={name} builds its metadata from the declared "
            "columns only; leave metadata unset")
    for i, spec in enumerate(cfg.columns):
        if spec.type == "numeric" and (spec.low is None or spec.high is None):
            raise ConfigError(
                f"columns[{i}]: numeric column {spec.name!r} needs public low and high for "
                f"synthesizer={name}; declare them (never computed from the data)")
    if cfg.ledger.path is None:
        raise ConfigError(
            f"ledger.path: missing; synthesizer={name} charges its ε to the site's privacy "
            "ledger before fitting: give the site's ledger file, ledger.path=PATH")
