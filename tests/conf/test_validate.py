"""Every bad value stops with one line naming the key, the value and what is allowed."""

from __future__ import annotations

import dataclasses
import re

import pytest

from conf.errors import ConfigError
from conf.schema import ExperimentConfig
from conf.validate import validate


def test_default_config_matches_the_issue(make_config) -> None:
    cfg = make_config()
    assert isinstance(cfg, ExperimentConfig)
    assert (cfg.sites, cfg.rounds, cfg.local_epochs) == (10, 10, 1)
    assert cfg.task.name == "digits"
    assert cfg.privacy.name == "dp_sgd"
    assert (cfg.privacy.epsilon, cfg.privacy.delta) == (3.0, 1e-5)
    assert cfg.private


def test_overrides_reach_the_typed_config(make_config) -> None:
    cfg = make_config("task=tabular", "sites=20", "rounds=15", "privacy.epsilon=8",
                      "strategy=fedprox", "partition=dirichlet", "partition.alpha=0.3")
    assert (cfg.task.name, cfg.sites, cfg.rounds) == ("tabular", 20, 15)
    assert cfg.privacy.epsilon == 8.0
    assert cfg.strategy.name == "fedprox" and cfg.strategy.proximal_mu > 0
    assert (cfg.partition.name, cfg.partition.alpha) == ("dirichlet", 0.3)


def test_experiment_preset_applies(make_config) -> None:
    cfg = make_config("experiment=tabular_skewed")
    assert (cfg.task.name, cfg.strategy.name, cfg.partition.name, cfg.sites) == (
        "tabular", "fedprox", "dirichlet", 20)


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ("privacy.epsilon=0", "privacy.epsilon=0.0: out of range; must be > 0"),
        ("privacy.epsilon=-3", "privacy.epsilon=-3.0: out of range; must be > 0"),
        ("privacy.delta=1.0", "privacy.delta=1.0: out of range; must be > 0 and < 1"),
        ("privacy.delta=0", "privacy.delta=0.0: out of range; must be > 0 and < 1"),
        ("sites=1", "sites=1: out of range; must be >= 2"),
        ("rounds=0", "rounds=0: out of range; must be >= 1"),
        ("seed=-1", "seed=-1: out of range; must be >= 0 and <= 4294967295"),
        ("strategy=krum strategy.num_malicious_nodes=9 sites=10",
         "strategy.num_malicious_nodes=9: Krum scores each update against sites - 9 - 2 others"),
        ("seed=4294967296", "seed=4294967296: out of range; must be >= 0 and <= 4294967295"),
        ("partition=dirichlet partition.alpha=0", "partition.alpha=0.0: out of range; must be > 0"),
        ("strategy.fraction_train=1.5", "strategy.fraction_train=1.5: out of range; must be > 0"
                                        " and <= 1"),
        ("strategy.fraction_evaluate=0", "strategy.fraction_evaluate=0.0: out of range"),
        ("privacy.accountant=gdp", "privacy.accountant='gdp': unknown; allowed: rdp, prv"),
        ("privacy.grad_sample_mode=magic", "privacy.grad_sample_mode='magic': unknown"),
        ("task.batch_size=0", "task.batch_size=0: out of range; must be >= 1"),
        ("local_epochs=abc", "local_epochs='abc': must be a whole number"),
        ("privacy.max_grad_norm=nan", "privacy.max_grad_norm=nan: must be a finite number"),
        ("min_sites=11", "min_sites=11: must be <= sites (10)"),
        ("reproducible=maybe", "reproducible='maybe': must be true or false"),
    ],
)
def test_bad_values_give_one_clear_line(make_config, override: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        make_config(*override.split())
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message


def test_unknown_names_are_rejected_with_the_allowed_ones(compose_raw) -> None:
    raw = compose_raw()
    raw["task"]["name"] = "imagenet"
    with pytest.raises(ConfigError, match=r"task.name='imagenet': unknown; allowed: digits, "
                                          r"tabular, csv"):
        validate(raw)
    raw = compose_raw()
    raw["strategy"]["name"] = "bulyan"
    with pytest.raises(ConfigError, match=r"strategy.name='bulyan': unknown; allowed: fedavg"):
        validate(raw)


def test_unknown_keys_and_missing_values(compose_raw) -> None:
    raw = compose_raw()
    raw["privacy"]["epsilonn"] = 3
    with pytest.raises(ConfigError, match=r"privacy.epsilonn: unknown key"):
        validate(raw)
    with pytest.raises(ConfigError, match=r"task.path: missing"):
        validate(compose_raw("task=csv"))


def test_validated_config_is_frozen(make_config) -> None:
    cfg = make_config()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.rounds = 3  # type: ignore[misc]


def test_unknown_tracking_mode_names_the_choices(make_config) -> None:
    with pytest.raises(ConfigError, match=re.escape(
            "tracking.mode='cloud': unknown; allowed: offline, online, disabled")):
        make_config("tracking.mode=cloud")
