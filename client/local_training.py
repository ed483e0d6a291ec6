"""One round of local training at a site: plain SGD or DP-SGD with a write-ahead charge."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from flwr.app import ArrayRecord
from torch import nn
from torch.utils.data import DataLoader

from client.dp_plan import plan_dp
from client.local_data import LocalData
from conf.protocol import SitePrivacyReport
from conf.schema import ExperimentConfig
from conf.site import SiteSettings
from privacy.dpsgd import debug_seed, make_private
from privacy.events import DpSgdEvent
from privacy.ledger import Ledger
from privacy.noise import noise_source
from privacy.release import Release
from tasks.registry import get_task
from tasks.training import TrainStats, proximal_pull, train_epochs


@dataclass(frozen=True)
class RoundResult:
    """What a site sends back after a training round."""

    arrays: ArrayRecord
    stats: TrainStats
    privacy: SitePrivacyReport | None
    clipped: int | None = None
    """DP-SGD: how many of the round's per-sample gradients were clipped (of
    ``stats.examples``); None without DP-SGD."""


def open_ledger(cfg: ExperimentConfig, settings: SiteSettings) -> Ledger:
    """The site's ledger, verified; refuses a missing or altered one and a δ, accountant or
    budget it was not created with."""
    return Ledger.open(
        settings.ledger_path,
        key_path=settings.ledger_key_path,
        site=settings.site,
        delta=settings.delta,
        accountant=cfg.privacy.accountant,
        budget=settings.budget,
    )


def train_round(
    cfg: ExperimentConfig,
    settings: SiteSettings,
    data: LocalData,
    arrays: ArrayRecord,
    run_id: str,
    server_round: int,
    proximal_mu: float,
) -> RoundResult:
    """Train the global model on the site's rows for ``cfg.local_epochs`` epochs."""
    model = get_task(cfg.task).build_model()
    model.load_state_dict(arrays.to_torch_state_dict())
    optimizer = torch.optim.SGD(
        model.parameters(), lr=cfg.task.learning_rate, momentum=cfg.task.momentum
    )
    after_step = None
    if proximal_mu > 0:
        after_step = proximal_pull(list(model.parameters()), proximal_mu, cfg.task.learning_rate)
    if not cfg.privacy.record_level:
        shuffle = torch.Generator().manual_seed(_round_seed(cfg, settings, server_round))
        loader = DataLoader(data.train, batch_size=cfg.task.batch_size, shuffle=True,
                            generator=shuffle)
        stats = train_epochs(model, loader, optimizer, nn.CrossEntropyLoss(),
                             cfg.local_epochs, after_step)
        return RoundResult(ArrayRecord(model.state_dict()), stats, None)
    return _train_private(cfg, settings, data, model, optimizer, after_step, run_id,
                          server_round)


def _train_private(cfg: ExperimentConfig, settings: SiteSettings, data: LocalData,
                   model: nn.Module, optimizer: torch.optim.Optimizer,
                   after_step: Callable[[nn.Module], None] | None, run_id: str,
                   server_round: int) -> RoundResult:
    """DP-SGD: check the plan and the budget, charge (write-ahead), train, mark released."""
    plan = plan_dp(cfg, settings, len(data.train))
    event = plan.event(run_id, server_round)
    ledger = open_ledger(cfg, settings)
    release = Release.charge(
        ledger, event, planned=plan.run_events(run_id),
        max_run_epsilon=settings.policy.max_epsilon_per_run,
        already=f"site {settings.site} already sent its update for round {server_round} of "
                f"run {run_id}; training it again would release a second update for one "
                "charge")
    private = make_private(
        model,
        optimizer,
        data.train,
        batch_size=cfg.task.batch_size,
        noise_multiplier=plan.noise_multiplier,
        max_grad_norm=cfg.privacy.max_grad_norm,
        grad_sample_mode=cfg.privacy.grad_sample_mode,
        noise=noise_source(
            _round_seed(cfg, settings, server_round) if cfg.reproducible else None),
    )
    stats = train_epochs(private.model, private.loader, private.optimizer, private.criterion,
                         cfg.local_epochs, _chain(private.meter.after_step, after_step))
    model = private.close()
    release.released()
    report = SitePrivacyReport(
        site=settings.site,
        mechanism="dp_sgd",
        noise_multiplier=plan.noise_multiplier,
        sample_rate=plan.sample_rate,
        steps=sum(e.steps for e in ledger.events
                  if e.run_id == run_id and isinstance(e, DpSgdEvent)),
        run_epsilon=ledger.run_epsilon(run_id),
        lifetime_epsilon=ledger.spent(),
        delta=ledger.delta,
        accountant=ledger.accountant,
        budget=ledger.budget,
        remaining=ledger.remaining(),
        private=cfg.private,
    )
    return RoundResult(ArrayRecord(model.state_dict()), stats, report, private.meter.clipped)


def _chain(*steps: Callable[[nn.Module], None] | None) -> Callable[[nn.Module], None]:
    """One ``after_step`` running each given step in order."""
    chosen = [step for step in steps if step is not None]

    def run(model: nn.Module) -> None:
        for step in chosen:
            step(model)

    return run


def _round_seed(cfg: ExperimentConfig, settings: SiteSettings, server_round: int) -> int:
    """A seed from the config seed, the site and the round: for non-private shuffling, and
    for DP noise only under ``reproducible=true`` (which marks the run not private)."""
    return debug_seed(cfg.seed, settings.site, server_round)
