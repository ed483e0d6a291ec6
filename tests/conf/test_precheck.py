"""`privfl simulate` arguments are checked in one line before Hydra or Ray start."""

from __future__ import annotations

from pathlib import Path

import pytest

from conf.errors import ConfigError
from conf.precheck import precheck
from tests.support.clinic import write_clinic_task


@pytest.mark.parametrize(("args", "message"), [
    (["foo=1"], "foo: no such key in this config"),
    (["partition.alpha=0.3"], "partition.alpha: no such key in this config"),
    (["-m", "privacy.epsilon=1,-3"], "privacy.epsilon=-3.0: out of range; must be > 0"),
    (["-m", "task=digits,imagenet"], "task=imagenet: unknown; allowed: csv, digits, tabular"),
    (["+foo=3"], "foo: unknown key; allowed keys are task, strategy"),
    (["sites=abc"], "sites='abc': must be a whole number"),
    (["privacy.epsilon=[1"], "privacy.epsilon=[1"),
])
def test_mistakes_are_one_line(args: list[str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        precheck(args)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_valid_arguments_pass(tmp_path: Path) -> None:
    precheck(["-m", "privacy.epsilon=1,3,8", "sites=3", f"hydra.run.dir={tmp_path}"])
    precheck(["task=tabular", "strategy=fedprox", "partition=dirichlet", "partition.alpha=0.3"])
    _, _, conf_dir = write_clinic_task(tmp_path)
    precheck([f"hydra.searchpath=[file://{conf_dir}]", "task=clinic"])


@pytest.mark.parametrize("key", ["hydra.run.dir", "simulation.ledger_dir"])
def test_a_folder_that_cannot_be_created_is_one_line(tmp_path: Path, key: str) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match=f"^{key}=.*a-file is a file, not a folder"):
        precheck([f"{key}={blocker / 'run'}"])


def test_a_folder_without_write_permission_is_one_line(tmp_path: Path, monkeypatch) -> None:
    import conf.precheck as module

    monkeypatch.setattr(module.os, "access", lambda path, mode: False)  # as a non-root user
    with pytest.raises(ConfigError, match=r"cannot write in .* \(permission denied\)"):
        precheck([f"hydra.run.dir={tmp_path / 'run'}"])
