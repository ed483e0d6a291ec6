"""Site-level DP (DP-FedAvg) through the real ServerApp and ClientApp (in-process)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from conf.errors import ConfigError
from privacy.ledger import Ledger
from tests.support.federation import build_federation


def _rows(run_dir: Path) -> list[dict]:
    return [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]


def _json(run_dir: Path, name: str) -> dict:
    return json.loads((run_dir / name).read_text())


def _model(run_dir: Path) -> dict[str, torch.Tensor]:
    return torch.load(run_dir / "model.pt")


def test_client_dp_reports_site_level_epsilon_with_its_unit(make_config, tmp_path: Path,
                                                            capsys) -> None:
    fed = build_federation(make_config("privacy=client_dp", "sites=4", "rounds=2",
                                       "privacy.client.epsilon=5"), tmp_path)
    fed.run()
    privacy = _json(fed.run_dir, "privacy.json")
    site = privacy["site_level"]
    assert (site["unit"], site["accountant"], site["delta"]) == ("site", "rdp", 1e-3)
    assert 4.99 <= site["epsilon"] <= 5.0 and site["releases"] == 2
    assert site["sample_rates"] == [1.0, 1.0] and site["private"] is True
    assert privacy["private"] is False and privacy["accountant"] is None  # no record level
    assert all("run_epsilon" not in s for s in privacy["sites"].values())
    assert "No record-level DP" in privacy["statement"] and "unit" not in privacy["statement"]
    rows = _rows(fed.run_dir)
    assert rows[0]["site_epsilon"] < rows[1]["site_epsilon"] == site["epsilon"]
    assert rows[1]["max_run_epsilon"] is None
    out = capsys.readouterr().out
    assert "site ε" in out and "unit=site" in out and "no DP" not in out
    assert f"site-level ε {site['epsilon']:.3f} over 2 releases (rdp, δ=0.001, unit=site" in out


def test_both_levels_are_reported_side_by_side_never_added(make_config,
                                                           tmp_path: Path) -> None:
    cfg = make_config("privacy=record_and_client", "sites=4", "rounds=2",
                      "secagg=secaggplus")
    fed = build_federation(cfg, tmp_path)
    fed.run()
    privacy = _json(fed.run_dir, "privacy.json")
    assert privacy["unit"] == "record" and privacy["site_epsilon_withheld"] is True
    for site in range(4):  # the record-level ε stays at each site under secure aggregation
        ledger = Ledger.load(fed.ledger(site))
        assert 2.9 < ledger.run_epsilon(ledger.events[0].run_id) <= 3.0
    assert 7.9 < privacy["site_level"]["epsilon"] <= 8.0
    assert "never added" in privacy["statement"]
    assert [r["sites_trained"] for r in _rows(fed.run_dir)] == [4, 4]


@pytest.mark.parametrize("clipping_norm", ["0.05", "5.0"])
def test_secure_and_plain_rounds_release_the_same_noisy_mean(make_config, tmp_path: Path,
                                                             clipping_norm: str) -> None:
    """With the noise seeded (reproducible=true, debug only), a secure round releases what a
    plain round releases: the sites clip before masking, weights are equal, and the mean
    divides by the cohort. A clipping norm of 0.05 clips every update; 5.0 clips none."""
    common = ("privacy=client_dp", "sites=4", "rounds=1", "reproducible=true",
              f"privacy.client.clipping_norm={clipping_norm}")
    plain = build_federation(make_config(*common), tmp_path / "plain")
    plain.run()
    secure = build_federation(make_config(*common, "secagg=secaggplus",
                                                "secagg.clipping_range=5"), tmp_path / "secure")
    secure.run()
    expected, got = _model(plain.run_dir), _model(secure.run_dir)
    assert all(torch.allclose(expected[k], got[k], atol=1e-4) for k in expected)
    assert "NOT PRIVATE" in _json(secure.run_dir, "privacy.json")["statement"]


def test_dropouts_shrink_the_update_but_not_the_noise(make_config, tmp_path: Path) -> None:
    """A site that fails mid-round still counts in the denominator (fixed cohort)."""
    from tests.support.federation import node_id
    from tests.support.inprocess_grid import CRASH

    common = ("privacy=client_dp", "sites=4", "rounds=1", "reproducible=true",
              "privacy.client.clipping_norm=0.05")
    full = build_federation(make_config(*common), tmp_path / "full")
    full.run()
    dropped = build_federation(make_config(*common), tmp_path / "dropped",
                               faults={node_id(3): ("train", CRASH)})
    dropped.run()
    assert _rows(dropped.run_dir)[0]["sites_trained"] == 3
    assert _json(dropped.run_dir, "privacy.json")["site_level"]["releases"] == 1
    before = torch.load(full.run_dir / "checkpoints/round-000.pt")
    step = {k: _model(full.run_dir)[k] - before[k] for k in before}
    step_dropped = {k: _model(dropped.run_dir)[k] - before[k] for k in before}
    # same noise, one clipped update (norm 0.05) fewer, divided by the same cohort of 4
    diff = torch.sqrt(sum(((step[k] - step_dropped[k]) ** 2).sum() for k in step))
    assert 0.05 / 4 * 0.98 < diff <= 0.05 / 4 * 1.02


def test_a_smaller_population_stops_the_run_before_the_budget_is_exceeded(
        make_config, tmp_path: Path) -> None:
    """Sampling 2 of 4 sites was planned; a site that refuses makes it 2 of 3, a higher
    sampling rate: the round that would exceed privacy.client.epsilon never starts."""
    cfg = make_config("privacy=client_dp", "sites=4", "rounds=3", "min_sites=2",
                      "strategy.fraction_train=0.5")
    fed = build_federation(cfg, tmp_path, node_overrides={0: {"allow-nonprivate": False}})
    fed.run()
    outcome = _json(fed.run_dir, "outcome.json")
    assert outcome["status"] == "stopped"
    assert "would take site-level ε to" in outcome["reason"]
    assert "privacy.client.epsilon=8" in outcome["reason"]
    site = _json(fed.run_dir, "privacy.json")["site_level"]
    assert site["epsilon"] <= 8.0 and site["releases"] == outcome["rounds_completed"] < 3
    assert site["sample_rates"] == [pytest.approx(2 / 3)] * site["releases"]
    preflight = _json(fed.run_dir, "privacy.json")["preflight"]
    assert any("allow-nonprivate=true" in r["reason"] for r in preflight)


@pytest.mark.parametrize(("overrides", "fragment"), [
    (("privacy=client_dp", "strategy=fedadam"),
     "strategy=fedadam: privacy=client_dp adds noise calibrated to the mean"),
    (("privacy=record_and_client", "strategy=krum"), "strategy=krum: privacy=record_and_client"),
    (("secagg=secaggplus", "strategy=fedmedian"),
     "strategy=fedmedian: needs every site's update in the clear, but secagg=secaggplus"),
    (("secagg=secaggplus", "strategy=krum"), "strategy=krum: needs every site's update"),
    (("privacy=client_dp", "sites=10", "privacy.client.delta=0.1"),
     "privacy.client.delta=0.1: must be below 1/sites (0.1)"),
    (("privacy=client_dp", "secagg=secaggplus", "privacy.client.clipping_norm=2"),
     "secagg.clipping_range=1: must be >= privacy.client.clipping_norm=2"),
    (("privacy=client_dp", "privacy.client.clipping_norm=0"),
     "privacy.client.clipping_norm=0.0: out of range; must be > 0"),
])
def test_combinations_that_cannot_work_are_rejected(make_config, overrides: tuple,
                                                    fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        make_config(*overrides)
    assert fragment in str(info.value) and "\n" not in str(info.value)


def test_client_dp_alone_needs_the_sites_opt_in(make_config, tmp_path: Path) -> None:
    cfg = make_config("privacy=client_dp", "sites=3", "rounds=1")
    fed = build_federation(cfg, tmp_path, node_overrides={
        i: {"allow-nonprivate": False} for i in range(3)})
    fed.run()
    outcome = _json(fed.run_dir, "outcome.json")
    assert outcome["status"] == "stopped" and outcome["rounds_completed"] == 0
