"""Build one of Flower's own Message-API strategies from the validated config.

The robust ones (FedMedian, Krum) need every site's update in the clear;
``conf.validate`` rejects them with secure aggregation or site-level DP
(``conf.schema.MEAN_STRATEGIES``).
"""

from __future__ import annotations

from collections.abc import Callable

from flwr.serverapp.strategy import FedAdam, FedAvg, FedMedian, FedProx, Krum, Strategy

from conf import protocol
from conf.schema import ExperimentConfig


def _common(cfg: ExperimentConfig) -> dict:
    s = cfg.strategy
    return {
        "fraction_train": s.fraction_train,
        # under secure aggregation sites refuse federated evaluation (per-site metrics)
        "fraction_evaluate": 0.0 if cfg.secure else s.fraction_evaluate,
        "min_train_nodes": cfg.min_sites,
        "min_evaluate_nodes": cfg.min_sites,
        "min_available_nodes": cfg.min_sites,
        "weighted_by_key": protocol.NUM_EXAMPLES,
        "arrayrecord_key": protocol.ARRAYS,
        "configrecord_key": protocol.CONFIG,
    }


def _fedavg(cfg: ExperimentConfig) -> Strategy:
    return FedAvg(**_common(cfg))


def _fedprox(cfg: ExperimentConfig) -> Strategy:
    return FedProx(**_common(cfg), proximal_mu=cfg.strategy.proximal_mu)


def _fedadam(cfg: ExperimentConfig) -> Strategy:
    s = cfg.strategy
    return FedAdam(**_common(cfg), eta=s.eta, beta_1=s.beta_1, beta_2=s.beta_2, tau=s.tau)


def _fedmedian(cfg: ExperimentConfig) -> Strategy:
    return FedMedian(**_common(cfg))


def _krum(cfg: ExperimentConfig) -> Strategy:
    return Krum(**_common(cfg), num_malicious_nodes=cfg.strategy.num_malicious_nodes)


STRATEGIES: dict[str, Callable[[ExperimentConfig], Strategy]] = {
    "fedavg": _fedavg,
    "fedprox": _fedprox,
    "fedadam": _fedadam,
    "fedmedian": _fedmedian,
    "krum": _krum,
}


def build_strategy(cfg: ExperimentConfig) -> Strategy:
    """The Flower strategy named by ``strategy.name``."""
    return STRATEGIES[cfg.strategy.name](cfg)
