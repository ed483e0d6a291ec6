"""Every name the schema allows has an implementation, and nothing else does."""

from __future__ import annotations

import typing

from conf.schema import AccountantName, GradSampleMode, TaskName
from privacy.accountants import ACCOUNTANTS
from privacy.dpsgd import GRAD_SAMPLE_MODES
from tasks.registry import TASKS


def test_schema_literals_match_the_implementations() -> None:
    assert set(typing.get_args(AccountantName)) == set(ACCOUNTANTS)
    assert set(typing.get_args(GradSampleMode)) == set(GRAD_SAMPLE_MODES)
    assert set(typing.get_args(TaskName)) == set(TASKS)
