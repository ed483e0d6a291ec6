"""Shared fixtures: compose configs through Hydra exactly as `privfl simulate` does."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conf.schema import ExperimentConfig
from conf.validate import validate
from tests.support import configs


@pytest.fixture(autouse=True, scope="session")
def no_wandb_unless_asked() -> Iterator[None]:
    """Runs started by tests (in-process and ``privfl simulate`` subprocesses) track
    nothing: ``tracking.mode`` defaults to ``$WANDB_MODE``. Tracking tests undo this."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WANDB_MODE", "disabled")
        yield


@pytest.fixture
def compose_raw() -> Callable[..., dict]:
    """Compose the Hydra config with overrides; return it as a plain resolved dict."""

    def _compose(*overrides: str, output_dir: str = "/tmp/privfl-test") -> dict:
        return configs.compose_raw(*overrides, output_dir=output_dir)

    return _compose


@pytest.fixture
def make_config(compose_raw, tmp_path: Path) -> Callable[..., ExperimentConfig]:
    """A validated ExperimentConfig for the given overrides, outputs under tmp_path."""

    def _make(*overrides: str) -> ExperimentConfig:
        return validate(compose_raw(*overrides, output_dir=str(tmp_path)))

    return _make
