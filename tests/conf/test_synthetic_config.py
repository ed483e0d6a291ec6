"""The ``synthetic`` group: defaults, the run_config bridge, and the combinations that
federated publication and warm start refuse before anything starts."""

from __future__ import annotations

import pytest

from conf.errors import ConfigError
from conf.precheck import precheck
from conf.run_config import from_run_config, to_run_config

PUBLISH = "synthetic.publish=true"
WARM = "synthetic.warm_start=true"


def test_defaults_publish_nothing(make_config) -> None:
    syn = make_config().synthetic
    assert (syn.publish, syn.warm_start, syn.synthesizer) == (False, False, "dp_mst")
    assert (syn.epsilon, syn.bins, syn.rows, syn.warm_start_epochs) == (1.0, 32, 0, 5)
    assert syn.private and not syn.charged


def test_publication_travels_in_the_run_config(make_config) -> None:
    cfg = make_config(PUBLISH, WARM, "synthetic.epsilon=0.5", "synthetic.rows=100")
    flat = to_run_config(cfg)
    assert flat["synthetic.publish"] is True and flat["synthetic.epsilon"] == 0.5
    assert from_run_config(flat) == cfg
    assert cfg.synthetic.charged


@pytest.mark.parametrize(("overrides", "fragment"), [
    ((WARM,), "synthetic.warm_start=true: needs synthetic.publish=true"),
    ((PUBLISH, WARM, "synthetic.synthesizer=gaussian_copula"),
     "synthetic.warm_start=true: this run claims record-level DP (privacy=dp_sgd), but "
     "synthetic.synthesizer=gaussian_copula is not DP"),
    ((PUBLISH, "synthetic.epsilon=3"), "synthetic.epsilon=3: must be below privacy.epsilon=3"),
    ((PUBLISH, "privacy.accountant=prv"), "privacy.accountant=prv: synthetic.synthesizer=dp_mst"),
    ((PUBLISH, WARM, "privacy=record_and_client", "sites=20"),
     "synthetic.warm_start=true: privacy=record_and_client's site-level ε"),
    ((PUBLISH, "synthetic.bins=1"), "synthetic.bins=1: out of range; must be >= 2"),
    ((PUBLISH, "synthetic.rows=-1"), "synthetic.rows=-1: out of range; must be >= 0"),
    ((PUBLISH, "synthetic.synthesizer=ctgan"), "synthetic.synthesizer='ctgan': unknown; allowed: "
                                              "dp_mst, gaussian_copula"),
])
def test_refused_combinations(make_config, overrides: tuple[str, ...], fragment: str) -> None:
    with pytest.raises(ConfigError) as err:
        make_config(*overrides)
    assert fragment in str(err.value)
    assert "\n" not in str(err.value)


def test_precheck_refuses_a_nondp_warm_start_in_one_line() -> None:
    """`privfl simulate` stops before Hydra runs, with one line naming the keys."""
    with pytest.raises(ConfigError, match=r"synthetic\.synthesizer=gaussian_copula is not DP"):
        precheck([PUBLISH, WARM, "synthetic.synthesizer=gaussian_copula"])


@pytest.mark.parametrize("overrides", [
    (PUBLISH, WARM, "synthetic.synthesizer=gaussian_copula", "privacy=none"),
    (PUBLISH, WARM, "synthetic.synthesizer=gaussian_copula", "reproducible=true"),
    (PUBLISH, "synthetic.synthesizer=gaussian_copula"),  # published, not trained on
    (PUBLISH, WARM, "privacy=none", "synthetic.epsilon=5"),  # no DP-SGD to share ε with
    (PUBLISH, WARM, "privacy.epsilon=1", "synthetic.epsilon=0.5"),
])
def test_allowed_combinations(make_config, overrides: tuple[str, ...]) -> None:
    assert make_config(*overrides).synthetic.publish
