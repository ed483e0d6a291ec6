"""Unknown group choices stop before Hydra with one line listing what exists."""

from __future__ import annotations

import pytest

from conf.errors import ConfigError
from conf.groups import check_group_overrides, group_choices


def test_lists_group_files() -> None:
    assert group_choices("strategy") == ["fedadam", "fedavg", "fedmedian", "fedprox", "krum"]
    assert {"digits", "tabular", "csv"} <= set(group_choices("task"))


@pytest.mark.parametrize(("override", "message"), [
    ("task=imagenet", "task=imagenet: unknown; allowed: csv, digits, tabular"),
    ("strategy=bulyan", "strategy=bulyan: unknown; allowed: fedadam, fedavg, fedmedian, "
                         "fedprox, krum"),
    ("privacy=none,ldp", "privacy=ldp: unknown; allowed: client_dp, dp_sgd, none, "
                         "record_and_client"),
])
def test_unknown_choice(override: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        check_group_overrides([override])


def test_known_choices_and_plain_values_pass() -> None:
    check_group_overrides(["task=tabular", "strategy=fedprox", "rounds=3",
                           "privacy.epsilon=1,3,8", "experiment=quick"])
