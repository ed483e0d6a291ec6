"""Build one of Flower's own Message-API strategies from the validated config."""

from __future__ import annotations

from collections.abc import Callable

from flwr.serverapp.strategy import FedAdam, FedAvg, FedProx, Strategy

from conf import protocol
from conf.schema import ExperimentConfig


def _common(cfg: ExperimentConfig) -> dict:
    s = cfg.strategy
    return {
        "fraction_train": s.fraction_train,
        "fraction_evaluate": s.fraction_evaluate,
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


STRATEGIES: dict[str, Callable[[ExperimentConfig], Strategy]] = {
    "fedavg": _fedavg,
    "fedprox": _fedprox,
    "fedadam": _fedadam,
}


def build_strategy(cfg: ExperimentConfig) -> Strategy:
    """The Flower strategy named by ``strategy.name``."""
    return STRATEGIES[cfg.strategy.name](cfg)
