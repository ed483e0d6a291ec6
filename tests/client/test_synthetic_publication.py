"""The site's synthesis handler (``query.synthesize``), called message by message: what
it charges, when it refuses, and what leaves the site."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pandas as pd
import pytest
from flwr.app import ConfigRecord, Message, RecordDict
from hydra import compose, initialize_config_module
from omegaconf import OmegaConf

from client.app import app
from client.dp_plan import plan_dp, planned_events
from client.local_data import load_local_data
from conf import protocol
from conf.schema import ExperimentConfig
from conf.site import SiteSettings
from conf.validate import validate
from privacy.accountants import epsilon_of
from privacy.events import DpSgdEvent, GaussianEvent
from privacy.ledger import Ledger
from server.synthetic_pool import read_pooled
from synthetic.dp.accounting import mst_event
from tasks.registry import get_task
from tests.support.churn import COLUMNS, write_churn_task
from tests.support.federation import Federation, build_federation, node_id
from tests.support.ledgers import create_ledger

RUN = "run-1"


def _config(root: Path, *overrides: str) -> ExperimentConfig:
    _, _, conf_dir = write_churn_task(root)
    with initialize_config_module(config_module="conf", version_base="1.3"):
        raw = compose("config", overrides=[f"hydra.searchpath=[file://{conf_dir}]", "task=churn",
                                           "sites=3", "rounds=2", "synthetic.publish=true",
                                           *overrides, f"output_dir={root / 'run'}"])
    return validate(OmegaConf.to_container(raw, resolve=True))


def _ask(fed: Federation, site: int, kind: str = protocol.SYNTHESIZE) -> Message:
    msg = Message(RecordDict({protocol.CONFIG: ConfigRecord({})}), dst_node_id=node_id(site),
                  message_type=f"query.{kind}")
    msg.metadata.__dict__["_message_id"] = f"m-{site}-{kind}"
    return app(msg, fed.grid.contexts[node_id(site)])


def _settings(fed: Federation, site: int) -> SiteSettings:
    return SiteSettings.from_node_config(fed.grid.contexts[node_id(site)].node_config)


def _site(reply: Message) -> ConfigRecord:
    return reply.content[protocol.SITE]


@pytest.fixture(scope="module")
def fed(tmp_path_factory) -> Federation:
    root = tmp_path_factory.mktemp("synth-site")
    fed = build_federation(_config(root), root)
    for site in range(fed.cfg.sites):
        assert fed.preflight(site)[protocol.STATUS] == protocol.OK
    return fed


def test_published_table_leaves_with_a_report_and_a_released_charge(fed: Federation) -> None:
    """One successful publication (the site allows statistics on its real rows: they come
    flagged as not covered by ε); a second request would be a second release for one
    charge and is refused."""
    context = fed.grid.contexts[node_id(0)]
    context.node_config = {**context.node_config, "allow-synthetic-statistics": True}
    reply = _ask(fed, 0)
    assert _site(reply)[protocol.STATUS] == protocol.OK
    record = reply.content[protocol.SYNTHETIC]
    table = read_pooled(bytes(record[protocol.TABLE]), get_task(fed.cfg.task))
    report = json.loads(str(record[protocol.REPORT]))
    assert list(table.columns) == COLUMNS
    train_rows = len(load_local_data(fed.cfg, _settings(fed, 0)).train)
    # synthetic.rows=0: MST's DP estimate of the training rows, never read off the table
    assert len(table) == report["rows"]
    assert abs(len(table) - train_rows) <= 0.2 * train_rows + 30
    assert report["privacy"]["differentially_private"] is True
    assert report["privacy"]["part_of_run_epsilon"] is True
    assert report["statistics"]["covered_by_epsilon"] is False
    assert 0 <= report["statistics"]["quality"]["score"] <= 1
    run_id = str(fed.grid.contexts[node_id(0)].run_id)
    ledger = Ledger.load(fed.ledger(0))
    [entry] = ledger.entries
    assert entry.event == mst_event(run_id, 1.0, 1e-5, accountant="rdp")
    assert entry.released_at is not None

    again = _site(_ask(fed, 0))
    assert (again[protocol.STATUS], again[protocol.KIND]) == (protocol.REFUSED,
                                                              "RoundAlreadyReleasedError")
    assert "a second table for one charge" in again[protocol.REASON]
    assert len(Ledger.load(fed.ledger(0)).entries) == 1


def test_budget_spent_after_preflight_refuses_publication(fed: Federation) -> None:
    """Another run spends site-1's budget after preflight: the synthesis is refused before
    anything is charged or fitted, and the reply says why."""
    assert _site(_ask(fed, 1, protocol.PREFLIGHT))[protocol.STATUS] == protocol.OK
    ledger = Ledger.open(fed.ledger(1), site="site-1", delta=1e-5, accountant="rdp",
                         budget=10.0)
    ledger.charge(DpSgdEvent(run_id="other", round=1, noise_multiplier=0.89, sample_rate=0.1,
                             steps=100))
    site = _site(_ask(fed, 1))
    assert (site[protocol.STATUS], site[protocol.KIND]) == (protocol.REFUSED,
                                                            "BudgetExceededError")
    assert "over the site's lifetime budget" in site[protocol.REASON]
    assert [e.run_id for e in Ledger.load(fed.ledger(1)).events] == ["other"]


def test_preflight_counts_the_synthesis_in_the_budget(fed: Federation) -> None:
    """A budget that covers the DP-SGD rounds alone but not the synthesis as well is
    refused at preflight: the run as planned does not fit."""
    settings = _settings(fed, 2)
    rows = len(load_local_data(fed.cfg, settings).train)
    events = planned_events(fed.cfg, settings, rows, RUN)
    assert isinstance(events[0], GaussianEvent) and events[0].round == 0
    dp_sgd_only = epsilon_of(events[1:], 1e-5, "rdp")
    composed = epsilon_of(events, 1e-5, "rdp")
    assert dp_sgd_only < composed <= fed.cfg.privacy.epsilon
    budget = (dp_sgd_only + composed) / 2
    context = fed.grid.contexts[node_id(2)]
    short = dataclasses.replace(settings, ledger_path=str(fed.ledger_dir / "short.json"),
                                budget=budget)
    create_ledger(short)
    context.node_config = {**context.node_config, "budget": budget,
                           "ledger-path": short.ledger_path}
    site = _site(_ask(fed, 2, protocol.PREFLIGHT))
    assert (site[protocol.STATUS], site[protocol.KIND]) == (protocol.REFUSED,
                                                            "BudgetExceededError")
    assert "dp_sgd/gaussian" in site[protocol.REASON]


def test_dp_sgd_noise_is_calibrated_for_the_total(tmp_path: Path) -> None:
    """With a DP synthesis the site's σ grows so that synthesis + rounds stay at ε=3."""
    cfg = _config(tmp_path)
    plain = _config(tmp_path, "synthetic.publish=false")
    settings = SiteSettings(site="s", data_path="x", ledger_path="y", budget=10, delta=1e-5)
    with_synthesis, without = plan_dp(cfg, settings, 640), plan_dp(plain, settings, 640)
    assert with_synthesis.noise_multiplier > without.noise_multiplier
    composed = epsilon_of(with_synthesis.run_events(RUN), 1e-5, "rdp")
    assert 3.0 - 0.011 <= composed <= 3.0
    assert without.run_events(RUN)[0].round == 1  # nothing charged for round 0


def test_too_few_rows_refuses_publication(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    small = tmp_path / "small.csv"
    pd.read_csv(tmp_path / "churn.csv").head(150).to_csv(small, index=False)
    fed = build_federation(cfg, tmp_path, node_overrides={0: {"data-path": str(small)}})
    assert fed.preflight(0)[protocol.STATUS] == protocol.OK
    site = _site(_ask(fed, 0))
    assert (site[protocol.STATUS], site[protocol.KIND]) == (protocol.REFUSED, "SynthDataError")
    assert "needs at least 200" in site[protocol.REASON]
    assert not fed.ledger(0).exists() or not Ledger.load(fed.ledger(0)).events


def test_nondp_table_that_fails_the_release_gate_is_not_sent(tmp_path: Path) -> None:
    """A site whose rows take few distinct values: the copula reproduces real rows, the
    gate's exact-copy check fails, and the reply names the failed check, no value."""
    cfg = _config(tmp_path, "synthetic.synthesizer=gaussian_copula")
    few = tmp_path / "few.csv"
    table = pd.read_csv(tmp_path / "churn.csv").head(600)
    table["tenure"] = table.index % 2
    table["monthly_charges"] = 20 + 30 * (table.index % 2)
    table.to_csv(few, index=False)
    fed = build_federation(cfg, tmp_path, node_overrides={
        0: {"data-path": str(few), "allow-nondp-synthetic": True}})
    assert fed.preflight(0)[protocol.STATUS] == protocol.OK
    site = _site(_ask(fed, 0))
    assert (site[protocol.STATUS], site[protocol.KIND]) == (protocol.REFUSED,
                                                            "SyntheticGateError")
    assert "failed the release gate (exact copies of real rows" in site[protocol.REASON]
    assert "=" not in site[protocol.REASON].split("gate (")[1]  # no statistic leaves


def test_nondp_synthesizer_without_the_sites_opt_in_is_refused(tmp_path: Path) -> None:
    fed = build_federation(_config(tmp_path, "synthetic.synthesizer=gaussian_copula"),
                           tmp_path)
    site = _site(_ask(fed, 0))
    assert (site[protocol.STATUS], site[protocol.KIND]) == (protocol.REFUSED, "SitePolicyError")
    assert "allow-nondp-synthetic=true" in site[protocol.REASON]
