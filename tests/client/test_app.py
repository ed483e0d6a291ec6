"""The ClientApp's handlers as a site runs them, called message by message."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from flwr.app import ArrayRecord, ConfigRecord, Message, RecordDict

from client.app import app
from conf import protocol
from conf.run_config import to_run_config
from privacy.events import DpSgdEvent
from privacy.ledger import Ledger
from tasks.registry import get_task
from tests.support.federation import build_federation, node_id


def _train_message(arrays, server_round: int) -> Message:
    content = RecordDict({protocol.ARRAYS: arrays,
                          protocol.CONFIG: ConfigRecord({"server-round": server_round})})
    return Message(content, dst_node_id=node_id(0), message_type="train")


def test_round_that_would_exceed_the_budget_is_refused(make_config, tmp_path: Path) -> None:
    """Another run spent the site's budget after preflight: the round is refused, the
    reply says why, and nothing more is charged."""
    fed = build_federation(make_config("sites=3", "rounds=2"), tmp_path)
    context = fed.grid.contexts[node_id(0)]
    assert fed.preflight(0)[protocol.STATUS] == protocol.OK
    ledger = Ledger.open(fed.ledger(0), site="site-0", delta=1e-5, accountant="rdp",
                         budget=10.0)
    ledger.charge(DpSgdEvent(run_id="other", round=1, noise_multiplier=0.89, sample_rate=0.1,
                             steps=100))
    arrays = ArrayRecord(get_task(fed.cfg.task).build_model().state_dict())
    msg = _train_message(arrays, 1)
    msg.metadata.__dict__["_message_id"] = "m1"
    reply = app(msg, context)
    site = reply.content[protocol.SITE]
    assert site[protocol.STATUS] == protocol.REFUSED
    assert site[protocol.KIND] == "BudgetExceededError"
    assert "over the site's lifetime budget" in site[protocol.REASON]
    assert protocol.ARRAYS not in reply.content
    assert [e.run_id for e in Ledger.load(fed.ledger(0)).events] == ["other"]


def test_missing_site_settings_are_a_clear_refusal(make_config, tmp_path: Path) -> None:
    fed = build_federation(make_config("sites=3", "rounds=1"), tmp_path)
    context = fed.grid.contexts[node_id(1)]
    context.node_config = {}
    msg = Message(RecordDict({protocol.CONFIG: ConfigRecord({})}), dst_node_id=node_id(1),
                  message_type=f"query.{protocol.PREFLIGHT}")
    msg.metadata.__dict__["_message_id"] = "m2"
    site = app(msg, context).content[protocol.SITE]
    assert site[protocol.STATUS] == protocol.REFUSED
    assert "no site settings" in site[protocol.REASON]


@pytest.mark.parametrize(("override", "fragment"), [
    ("privacy=none", "the site must set allow-nonprivate=true"),
    ("reproducible=true", "the site must set allow-reproducible=true"),
])
def test_site_refuses_less_privacy_than_it_allows(make_config, tmp_path: Path, override: str,
                                                  fragment: str) -> None:
    """The coordinator's run config cannot switch a site's DP off or seed its noise."""
    fed = build_federation(make_config("sites=3", "rounds=1"), tmp_path)
    context = fed.grid.contexts[node_id(0)]
    asked = make_config("sites=3", "rounds=1", override)
    context.run_config = to_run_config(dataclasses.replace(
        asked, output_dir=fed.cfg.output_dir, server_test_data=fed.cfg.server_test_data))
    arrays = ArrayRecord(get_task(fed.cfg.task).build_model().state_dict())
    for msg in (_train_message(arrays, 1),
                Message(RecordDict({protocol.CONFIG: ConfigRecord({})}), dst_node_id=node_id(0),
                        message_type=f"query.{protocol.PREFLIGHT}")):
        msg.metadata.__dict__["_message_id"] = "m3"
        site = app(msg, context).content[protocol.SITE]
        assert site[protocol.STATUS] == protocol.REFUSED
        assert site[protocol.KIND] == "SitePolicyError"
        assert fragment in site[protocol.REASON]
    assert not fed.ledger(0).exists() or not Ledger.load(fed.ledger(0)).events


def test_budget_in_the_run_config_does_not_reach_the_site(make_config, tmp_path: Path) -> None:
    """privacy.site_budget travels in run_config for the launcher; sites read their own."""
    fed = build_federation(make_config("sites=3", "rounds=1"), tmp_path)
    context = fed.grid.contexts[node_id(0)]
    context.run_config = {**context.run_config, "privacy.site_budget": 0.01}
    assert fed.preflight(0)[protocol.STATUS] == protocol.OK
    arrays = ArrayRecord(get_task(fed.cfg.task).build_model().state_dict())
    msg = _train_message(arrays, 1)
    msg.metadata.__dict__["_message_id"] = "m4"
    site = app(msg, context).content[protocol.SITE]
    assert site[protocol.STATUS] == protocol.OK
    assert site["budget"] == fed.cfg.privacy.site_budget == 10.0
