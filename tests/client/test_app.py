"""The ClientApp's handlers as a site runs them, called message by message."""

from __future__ import annotations

from pathlib import Path

from flwr.app import ArrayRecord, ConfigRecord, Message, RecordDict

from client.app import app
from conf import protocol
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
