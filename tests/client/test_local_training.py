"""A site's training round: write-ahead charge, σ/q/steps as recorded, OS-entropy noise."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch
from flwr.app import ArrayRecord
from opacus.accountants import PRVAccountant, RDPAccountant
from torch.optim.optimizer import register_optimizer_step_post_hook

from client.local_data import load_local_data
from client.local_training import train_round
from conf.errors import ConfigError
from conf.site import SiteSettings
from privacy.errors import RoundAlreadyReleasedError
from privacy.ledger import Ledger
from simulations.site_data import write_site_data
from tasks.registry import get_task
from tests.support.ledgers import create_ledger


@pytest.fixture
def site(make_config, tmp_path: Path):
    """Site 0 of a 3-site digits split, with its settings and local data."""
    cfg = make_config("sites=3", "rounds=2")
    data = write_site_data(cfg, tmp_path / "data")
    settings = SiteSettings(site="site-0", data_path=str(data.site_files[0]),
                            ledger_path=str(tmp_path / "ledger.json"), budget=10.0, delta=1e-5)
    return cfg, settings, load_local_data(cfg, settings)


def _global(cfg) -> ArrayRecord:
    torch.manual_seed(cfg.seed)
    return ArrayRecord(get_task(cfg.task).build_model().state_dict())


def _count_steps():
    steps = []
    handle = register_optimizer_step_post_hook(lambda opt, args, kwargs: steps.append(1))
    return steps, handle


@pytest.mark.parametrize("accountant", ["rdp", "prv"])
def test_recorded_sigma_q_steps_match_what_ran(site, accountant: str) -> None:
    cfg, settings, data = site
    cfg = dataclasses.replace(cfg, privacy=dataclasses.replace(cfg.privacy,
                                                               accountant=accountant))
    create_ledger(settings, accountant)
    steps, handle = _count_steps()
    try:
        result = train_round(cfg, settings, data, _global(cfg), run_id="r1", server_round=1,
                             proximal_mu=0.0)
    finally:
        handle.remove()
    report = result.privacy
    assert report.steps == len(steps)  # every optimizer step taken was recorded
    assert report.sample_rate == cfg.task.batch_size / len(data.train)
    independent = (RDPAccountant if accountant == "rdp" else PRVAccountant)()
    independent.history = [(report.noise_multiplier, report.sample_rate, report.steps)]
    assert report.run_epsilon == pytest.approx(independent.get_epsilon(1e-5), rel=1e-6)
    event = Ledger.load(settings.ledger_path).events[0]
    assert (event.noise_multiplier, event.sample_rate, event.steps) == (
        report.noise_multiplier, report.sample_rate, report.steps)


def test_noise_is_fresh_unless_reproducible(site, tmp_path: Path) -> None:
    cfg, settings, data = site

    def update(cfg, ledger: str, run: str) -> torch.Tensor:
        s = dataclasses.replace(settings, ledger_path=str(tmp_path / ledger))
        create_ledger(s)
        result = train_round(cfg, s, data, _global(cfg), run_id=run, server_round=1,
                             proximal_mu=0.0)
        return torch.cat([v.flatten() for v in result.arrays.to_torch_state_dict().values()])

    assert not torch.equal(update(cfg, "a.json", "r"), update(cfg, "b.json", "r"))
    debug = dataclasses.replace(cfg, reproducible=True)
    assert not debug.private
    assert torch.equal(update(debug, "c.json", "r"), update(debug, "d.json", "r"))


def test_a_released_round_is_never_trained_again(site) -> None:
    cfg, settings, data = site
    create_ledger(settings)
    train_round(cfg, settings, data, _global(cfg), run_id="r1", server_round=1, proximal_mu=0.0)
    with pytest.raises(RoundAlreadyReleasedError, match="already sent its update for round 1"):
        train_round(cfg, settings, data, _global(cfg), run_id="r1", server_round=1,
                    proximal_mu=0.0)
    ledger = Ledger.load(settings.ledger_path)
    assert len(ledger.events) == 1 and ledger.is_released(ledger.events[0])


def test_a_round_that_crashed_before_release_is_retried_without_a_second_charge(
        site, monkeypatch) -> None:
    cfg, settings, data = site
    create_ledger(settings)
    monkeypatch.setattr("client.local_training.train_epochs", _raise)
    with pytest.raises(RuntimeError, match="crash"):
        train_round(cfg, settings, data, _global(cfg), run_id="r1", server_round=1,
                    proximal_mu=0.0)
    charged = Ledger.load(settings.ledger_path)
    assert len(charged.events) == 1 and not charged.is_released(charged.events[0])
    monkeypatch.undo()
    result = train_round(cfg, settings, data, _global(cfg), run_id="r1", server_round=1,
                         proximal_mu=0.0)
    assert result.privacy.steps == charged.events[0].steps
    assert Ledger.load(settings.ledger_path).spent() == charged.spent()


@pytest.mark.parametrize("server_round", [0, 3])
def test_rounds_outside_the_plan_are_refused(site, server_round: int) -> None:
    cfg, settings, data = site  # rounds=2
    with pytest.raises(ConfigError, match=f"round {server_round} is outside .* 1..2"):
        train_round(cfg, settings, data, _global(cfg), run_id="r1", server_round=server_round,
                    proximal_mu=0.0)
    assert not Path(settings.ledger_path).exists()  # refused before touching the ledger


def _raise(*args, **kwargs):
    raise RuntimeError("injected crash between charge and release")


def test_non_private_round_touches_no_ledger(site) -> None:
    cfg, settings, data = site
    cfg = dataclasses.replace(cfg, privacy=dataclasses.replace(cfg.privacy, name="none"))
    result = train_round(cfg, settings, data, _global(cfg), run_id="r1", server_round=1,
                         proximal_mu=0.0)
    assert result.privacy is None
    assert not Path(settings.ledger_path).exists()


def test_fedprox_pull_keeps_the_update_closer_to_the_global_model(site) -> None:
    cfg, settings, data = site
    cfg = dataclasses.replace(cfg, privacy=dataclasses.replace(cfg.privacy, name="none"))
    start = _global(cfg)

    def distance(mu: float) -> float:
        torch.manual_seed(1)
        result = train_round(cfg, settings, data, start, run_id="r", server_round=1,
                             proximal_mu=mu)
        new, old = result.arrays.to_torch_state_dict(), start.to_torch_state_dict()
        return sum(float((new[k] - old[k]).norm()) for k in old)

    assert distance(5.0) < distance(0.0)
