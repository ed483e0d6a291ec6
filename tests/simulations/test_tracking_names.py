"""A sweep's tracked runs are grouped under the sweep folder and named by job."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from hydra import compose, initialize_config_module
from hydra.core.hydra_config import HydraConfig
from omegaconf import open_dict

from simulations.launcher import _name_tracked_run


@pytest.fixture
def hydra_job() -> Iterator[Callable[[str], None]]:
    def _set(mode: str) -> None:
        with initialize_config_module(config_module="conf", version_base="1.3"):
            raw = compose("config", overrides=[
                "hydra.sweep.dir=runs/multirun/2026-11-26/12-00-00", f"hydra.mode={mode}",
                "output_dir=/tmp/unused"], return_hydra_config=True)
        with open_dict(raw):
            raw.hydra.job.num = 3
            raw.hydra.job.override_dirname = "privacy.epsilon=1"
        HydraConfig.instance().set_config(raw)

    yield _set
    HydraConfig.instance().cfg = None


def test_sweep_jobs_are_grouped_and_named(make_config, hydra_job) -> None:
    hydra_job("MULTIRUN")
    tracking = _name_tracked_run(make_config()).tracking
    assert (tracking.group, tracking.run_name) == ("2026-11-26/12-00-00", "3: privacy.epsilon=1")
    chosen = _name_tracked_run(make_config("tracking.group=mine", "tracking.run_name=r"))
    assert (chosen.tracking.group, chosen.tracking.run_name) == ("mine", "r")


def test_a_single_run_keeps_its_settings(make_config, hydra_job) -> None:
    hydra_job("RUN")
    cfg = make_config()
    assert _name_tracked_run(cfg) == cfg
