"""Compose a validated config through Hydra exactly as `privfl simulate` does, outside a
function-scoped fixture (module fixtures that share one run between tests)."""

from __future__ import annotations

from hydra import compose, initialize_config_module
from omegaconf import OmegaConf

from conf.schema import ExperimentConfig
from conf.validate import validate


def compose_raw(*overrides: str, output_dir: str) -> dict:
    """The composed config for ``overrides`` as a plain resolved dict."""
    with initialize_config_module(config_module="conf", version_base="1.3"):
        raw = compose("config", overrides=[*overrides, f"output_dir={output_dir}"])
    return OmegaConf.to_container(raw, resolve=True)


def experiment_config(*overrides: str, output_dir: str) -> ExperimentConfig:
    """The validated ExperimentConfig for ``overrides``."""
    return validate(compose_raw(*overrides, output_dir=output_dir))
