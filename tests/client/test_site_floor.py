"""A deployed site's own floor, through the real ServerApp and ClientApp: the task
schema its data follows, its highest ε per run, its lowest noise multiplier."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from client.dp_plan import plan_dp
from client.site_policy import SitePolicyError
from conf.site import SiteSettings
from conf.site_policy import SitePolicy
from conf.task_schema import load_task_schema, task_schema_digest
from tests.support.federation import build_federation

DIGITS = task_schema_digest(load_task_schema("digits", Path(".")))
TABULAR = task_schema_digest(load_task_schema("tabular", Path(".")))


def _preflight(fed) -> dict[str, dict]:
    fed.run()
    refusals = json.loads((fed.run_dir / "privacy.json").read_text())["preflight"]
    return {r["site"]: r for r in refusals}


@pytest.mark.parametrize(("override", "fragment"), [
    ({"task-schema": TABULAR}, "another schema than this run's task=digits"),
    ({"max-epsilon-per-run": 1.0}, "allows at most ε=1 per run"),
    ({"min-noise-multiplier": 50.0}, "noise multiplier of at least 50"),
])
def test_a_run_below_the_site_floor_is_refused_at_preflight(make_config, tmp_path, override,
                                                            fragment) -> None:
    cfg = make_config("sites=3", "rounds=1", "privacy.epsilon=3")
    fed = build_federation(cfg, tmp_path, node_overrides={0: override})
    refusals = _preflight(fed)
    assert list(refusals) == ["site-0"]
    assert refusals["site-0"]["kind"] == "SitePolicyError"
    assert fragment in refusals["site-0"]["reason"]
    rows = [json.loads(line) for line in (fed.run_dir / "metrics.jsonl").read_text().splitlines()]
    assert rows[0]["sites_trained"] == 2


def test_a_matching_schema_and_a_met_floor_take_part(make_config, tmp_path) -> None:
    cfg = make_config("sites=3", "rounds=1", "privacy.epsilon=3")
    fed = build_federation(cfg, tmp_path, node_overrides={0: {
        "task-schema": DIGITS, "max-epsilon-per-run": 3.0, "min-noise-multiplier": 0.3}})
    assert _preflight(fed) == {}


def test_the_floor_compares_the_sites_own_calibrated_noise(make_config) -> None:
    """σ is what the site calibrates from its own rows and δ; the floor refuses below it."""
    cfg = make_config("rounds=5", "privacy.epsilon=8")
    settings = SiteSettings(site="a", data_path="-", ledger_path="-", budget=10, delta=1e-5)
    sigma = plan_dp(cfg, settings, 400).noise_multiplier
    strict = SiteSettings(site="a", data_path="-", ledger_path="-", budget=10, delta=1e-5,
                          policy=SitePolicy(min_noise_multiplier=sigma * 1.01))
    with pytest.raises(SitePolicyError, match=f"give {sigma:.3f}"):
        plan_dp(cfg, strict, 400)
