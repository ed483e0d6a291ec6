"""The Hydra -> Flower run_config bridge loses nothing and keeps values scalar."""

from __future__ import annotations

from conf.run_config import from_run_config, to_run_config


def test_round_trip_is_exact(make_config) -> None:
    for overrides in [(), ("task=tabular", "strategy=fedadam", "partition=dirichlet"),
                      ("privacy=none",)]:
        cfg = make_config(*overrides)
        flat = to_run_config(cfg)
        assert all(isinstance(v, bool | int | float | str) for v in flat.values())
        assert from_run_config(flat) == cfg


def test_keys_are_dotted_names(make_config) -> None:
    flat = to_run_config(make_config())
    assert flat["privacy.epsilon"] == 3.0
    assert flat["task.name"] == "digits"
    assert "simulation.ledger_dir" not in flat  # None values are left out


def test_tabular_schema_travels_as_json(make_config) -> None:
    cfg = make_config("task=tabular")
    flat = to_run_config(cfg)
    assert flat["task.features"].startswith("[")
    assert from_run_config(flat).task.features == cfg.task.features


def test_tracking_settings_travel(make_config) -> None:
    cfg = make_config("tracking.mode=online", "tracking.tags=[dp,eps3]", "tracking.group=g")
    back = from_run_config(to_run_config(cfg))
    assert back.tracking == cfg.tracking and back.tracking.tags == ("dp", "eps3")
    assert make_config("tracking=none").tracking.name == "none"
    assert make_config().tracking.mode is None  # $WANDB_MODE, else offline
