"""The typed experiment schema: frozen dataclasses, one per config group.

Every command builds an :class:`ExperimentConfig` with :func:`conf.validate.validate`
before anything starts; a bad value stops with one line naming the key, the value and
what is allowed. Allowed ranges live beside each field as ``metadata``.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from typing import Literal

from conf.site_policy import SitePolicy

TaskName = Literal["digits", "tabular", "csv"]
StrategyName = Literal["fedavg", "fedprox", "fedadam", "fedmedian", "krum"]
PrivacyName = Literal["dp_sgd", "client_dp", "record_and_client", "none"]
AccountantName = Literal["rdp", "prv"]
GradSampleMode = Literal["hooks", "ew", "functorch", "ghost"]
PartitionName = Literal["iid", "dirichlet"]
SecAggName = Literal["none", "secaggplus"]
FeatureType = Literal["numeric", "categorical"]
PublishedSynthesizer = Literal["dp_mst", "gaussian_copula"]
TrackingName = Literal["wandb", "none"]
TrackingMode = Literal["offline", "online", "disabled"]

MEAN_STRATEGIES = ("fedavg", "fedprox", "fedadam")
"""Strategies that aggregate by a weighted mean of the updates: all secure aggregation
reveals. FedAdam then steps a server optimiser, so only FedAvg and FedProx release the
mean itself, which is what DP-FedAvg's noise is calibrated for."""
SITE_DP_STRATEGIES = ("fedavg", "fedprox")


SEED_RANGE = {"ge": 0, "le": 2**32 - 1}
"""Seeds numpy and torch accept (numpy refuses a negative one, and one above 2^32 - 1)."""
MAX_ROUNDS = 10_000
"""More rounds than any study runs: a larger number is a typo (DP-SGD would calibrate σ
for all of them before round 1)."""


def positive() -> dict:
    """Metadata for a value that must be > 0."""
    return {"gt": 0}


def fraction() -> dict:
    """Metadata for a value in (0, 1]."""
    return {"gt": 0, "le": 1}


def open_fraction() -> dict:
    """Metadata for a value in (0, 1)."""
    return {"gt": 0, "lt": 1}


@dataclass(frozen=True)
class FeatureSpec:
    """One declared input column. Numeric columns are scaled from the declared
    ``[low, high]`` (public knowledge, never fitted on data); categorical columns are
    one-hot encoded over the declared ``levels``. ``integer`` declares that a numeric
    column holds whole numbers (also public knowledge: synthesizers then sample whole
    numbers; never inferred from the data's dtype, which one record can change)."""

    name: str
    type: FeatureType
    levels: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    integer: bool = False


@dataclass(frozen=True)
class LabelSpec:
    """The label column and its declared classes (compared as strings)."""

    name: str
    classes: tuple[str, ...]


@dataclass(frozen=True)
class TaskConfig:
    """What to learn: the model, its data and local optimiser settings."""

    name: TaskName
    batch_size: int = field(default=16, metadata={"ge": 1})
    learning_rate: float = field(default=0.05, metadata=positive())
    momentum: float = field(default=0.0, metadata={"ge": 0, "lt": 1})
    test_fraction: float = field(default=0.2, metadata=open_fraction())
    path: str | None = None
    features: tuple[FeatureSpec, ...] = ()
    label: LabelSpec | None = None
    hidden_units: int = field(default=64, metadata={"ge": 1})


@dataclass(frozen=True)
class StrategyConfig:
    """Which Flower strategy aggregates, and how sites are sampled each round."""

    name: StrategyName
    fraction_train: float = field(default=1.0, metadata=fraction())
    fraction_evaluate: float = field(default=1.0, metadata=fraction())
    round_timeout: float = field(default=600.0, metadata=positive())
    proximal_mu: float = field(default=0.0, metadata={"ge": 0})
    eta: float = field(default=0.1, metadata=positive())
    beta_1: float = field(default=0.9, metadata={"ge": 0, "lt": 1})
    beta_2: float = field(default=0.99, metadata={"ge": 0, "lt": 1})
    tau: float = field(default=1e-3, metadata=positive())
    num_malicious_nodes: int = field(default=0, metadata={"ge": 0})


@dataclass(frozen=True)
class ClientDpConfig:
    """Site-level DP (DP-FedAvg): each site's update is clipped to ``clipping_norm`` (L2)
    at the site, and the coordinator adds Gaussian noise to the aggregate so that the
    whole run is (``epsilon``, ``delta``)-DP for the participation of one site."""

    epsilon: float = field(default=8.0, metadata=positive())
    delta: float = field(default=1e-3, metadata=open_fraction())
    clipping_norm: float = field(default=1.0, metadata=positive())


@dataclass(frozen=True)
class PrivacyConfig:
    """Record-level DP-SGD at each site, site-level DP-FedAvg, both, or none.

    ``epsilon`` ... ``site_budget`` configure the record level (DP-SGD, charged to each
    site's ledger); ``client`` configures the site level. The two ε are never added:
    they bound different things (one record of a site vs. a whole site).
    """

    name: PrivacyName
    epsilon: float = field(default=3.0, metadata=positive())
    delta: float = field(default=1e-5, metadata=open_fraction())
    accountant: AccountantName = "rdp"
    max_grad_norm: float = field(default=1.0, metadata=positive())
    grad_sample_mode: GradSampleMode = "hooks"
    site_budget: float = field(default=10.0, metadata=positive())
    client: ClientDpConfig = field(default_factory=ClientDpConfig)

    @property
    def record_level(self) -> bool:
        """True when sites train with DP-SGD (record-level ε, charged to their ledgers)."""
        return self.name in ("dp_sgd", "record_and_client")

    @property
    def site_level(self) -> bool:
        """True when the coordinator adds DP-FedAvg noise (site-level ε)."""
        return self.name in ("client_dp", "record_and_client")


@dataclass(frozen=True)
class PartitionConfig:
    """How a pooled table is split across simulated sites."""

    name: PartitionName
    alpha: float = field(default=0.5, metadata=positive())
    min_site_rows: int = field(default=10, metadata={"ge": 1})


def _simulated(policy: type) -> type:
    """``policy`` with every field optional and unset (null: derived from the run)."""
    hints = typing.get_type_hints(policy)
    fields = [(f.name, hints[f.name] | None, field(default=None, metadata=f.metadata))
              for f in dataclasses.fields(policy)]
    return dataclasses.make_dataclass(
        f"Simulated{policy.__name__}", fields, frozen=True,
        namespace={"__doc__": "Every simulated site's policy (``simulation.site_policy``): the "
                              "keys of ``conf.site_policy.SitePolicy``; null derives the value "
                              "from the run (``simulations.site_policy``)."})


SimulatedSitePolicy = _simulated(SitePolicy)


@dataclass(frozen=True)
class SimulationConfig:
    """Settings of the Simulation Runtime (Ray backend) and of the simulated data."""

    server_test_fraction: float = field(default=0.2, metadata=open_fraction())
    ledger_dir: str | None = None
    init_ledgers: bool = False  # with ledger_dir: create the sites' ledgers missing there
    cpus_per_site: float = field(default=1.0, metadata=positive())
    verbose: bool = False
    site_policy: SimulatedSitePolicy = field(default_factory=SimulatedSitePolicy)


@dataclass(frozen=True)
class SecAggConfig:
    """Secure aggregation of the training updates (SecAgg+); see docs/secure-aggregation.md.

    ``neighbours`` and ``threshold`` of 0 mean: derived from the number of sites
    (``default_neighbours`` and k // 2 + 1).
    """

    name: SecAggName = "none"
    neighbours: int = field(default=0, metadata={"ge": 0})
    threshold: int = field(default=0, metadata={"ge": 0})
    clipping_range: float = field(default=1.0, metadata=positive())
    quantization_bits: int = field(default=24, metadata={"ge": 1, "le": 32})
    modulus_bits: int = field(default=44, metadata={"ge": 2, "le": 62})
    max_weight: int = field(default=1000, metadata={"ge": 1})
    min_cohort: int = field(default=0, metadata={"ge": 0})
    stage_timeout: float = field(default=120.0, metadata=positive())


@dataclass(frozen=True)
class SyntheticConfig:
    """Federated publication of synthetic tables (docs/synthetic-federated.md).

    With ``publish`` each site fits ``synthesizer`` on its own training rows before round
    1 and sends only the synthetic table (``rows`` rows; 0: as many as it trains on) to
    the coordinator, which pools them. ``dp_mst`` is record-level (``epsilon``, the site's
    δ)-DP and charged to the site's ledger as part of the run's ``privacy.epsilon``;
    ``gaussian_copula`` is not DP and needs each site's own opt-in. With ``warm_start``
    the coordinator trains the initial global model on the pooled table for
    ``warm_start_epochs`` epochs before round 1.
    """

    publish: bool = False
    warm_start: bool = False
    synthesizer: PublishedSynthesizer = "dp_mst"
    epsilon: float = field(default=1.0, metadata=positive())
    bins: int = field(default=32, metadata={"ge": 2, "le": 1024})
    rows: int = field(default=0, metadata={"ge": 0})
    warm_start_epochs: int = field(default=5, metadata={"ge": 1})

    @property
    def private(self) -> bool:
        """True when the published tables are differentially private (``dp_mst``)."""
        return self.synthesizer == "dp_mst"

    @property
    def charged(self) -> bool:
        """True when sites charge a DP synthesis to their ledgers in this run."""
        return self.publish and self.private


@dataclass(frozen=True)
class TrackingConfig:
    """Experiment tracking in W&B (docs/tracking.md); ``name=none`` turns it off.

    ``mode`` None means: ``WANDB_MODE`` from the environment if set, else ``offline``
    (no account, no network; ``wandb sync`` uploads later). ``dir`` None puts the W&B
    run inside the run directory. ``group`` and ``run_name`` None: a sweep's runs are
    grouped under the sweep's folder and named by job number and overrides.
    """

    name: TrackingName = "wandb"
    mode: TrackingMode | None = None
    project: str = "privfl"
    entity: str | None = None
    group: str | None = None
    run_name: str | None = None
    tags: tuple[str, ...] = ()
    dir: str | None = None


@dataclass(frozen=True)
class ExperimentConfig:
    """A whole experiment: the root of the composed Hydra config."""

    task: TaskConfig
    strategy: StrategyConfig
    privacy: PrivacyConfig
    partition: PartitionConfig
    simulation: SimulationConfig
    secagg: SecAggConfig = field(default_factory=SecAggConfig)
    synthetic: SyntheticConfig = field(default_factory=SyntheticConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    sites: int = field(default=10, metadata={"ge": 2})
    rounds: int = field(default=10, metadata={"ge": 1, "le": MAX_ROUNDS})
    local_epochs: int = field(default=1, metadata={"ge": 1})
    min_sites: int = field(default=2, metadata={"ge": 1})
    seed: int = field(default=0, metadata=SEED_RANGE)
    reproducible: bool = False
    output_dir: str = "."
    server_test_data: str | None = None

    @property
    def private(self) -> bool:
        """True when the run may claim record-level DP: DP-SGD on, noise from OS entropy."""
        return self.privacy.record_level and not self.reproducible

    @property
    def secure(self) -> bool:
        """True when training rounds run under secure aggregation."""
        return self.secagg.name != "none"

    @property
    def withholds_site_epsilon(self) -> bool:
        """True when sites train with DP-SGD under secure aggregation and so report no
        per-site ε: q, σ or ε of one site would reveal its row count, so the coordinator
        knows only the plan (every site calibrates this run to ``privacy.epsilon``)."""
        return self.privacy.record_level and self.secure

    @property
    def site_private(self) -> bool:
        """True when the run may claim site-level DP: DP-FedAvg on, noise from OS entropy."""
        return self.privacy.site_level and not self.reproducible
