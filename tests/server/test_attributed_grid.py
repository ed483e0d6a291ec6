"""An error reply the SuperLink writes for an unreachable site is attributed to that site."""

from __future__ import annotations

from flwr.app import ConfigRecord, Error, Message, RecordDict
from flwr.common.constant import SUPERLINK_NODE_ID

from server.attributed_grid import AttributedGrid
from tests.support.local_grid import LocalGrid


class _SuperLinkAnswering(LocalGrid):
    """Injects the fault: the SuperLink answers for node 7 (dead), node 8 answers itself."""

    def send_and_receive(self, messages, *, timeout=None):
        replies = []
        for msg in messages:
            msg.metadata.__dict__["_message_id"] = msg.object_id  # as pushing does
            if msg.metadata.dst_node_id == 7:
                reply = Message(Error(code=0, reason="Node Unavailable"), reply_to=msg)
                reply.metadata.__dict__["_src_node_id"] = SUPERLINK_NODE_ID
            else:
                reply = Message(RecordDict({"site": ConfigRecord({"ok": 1})}), reply_to=msg)
            replies.append(reply)
        return replies


def test_superlink_error_replies_name_the_site_they_concern() -> None:
    grid = _SuperLinkAnswering(run_id=5, run_config={}, node_configs={7: {}, 8: {}})
    messages = [Message(RecordDict({"config": ConfigRecord({"n": node})}), dst_node_id=node,
                        message_type="query.preflight") for node in (7, 8)]
    replies = AttributedGrid(grid).send_and_receive(messages, timeout=1)
    assert [r.metadata.src_node_id for r in replies] == [7, 8]
    assert replies[0].has_error() and not replies[1].has_error()
