"""Bytes on the wire are the messages' protobuf sizes, counted per round."""

from __future__ import annotations

import numpy as np
from flwr.app import ArrayRecord, ConfigRecord, Message, RecordDict
from flwr.app.message_type import MessageType
from flwr.common.serde import message_to_proto

from server.traffic import TrafficCountingGrid, message_bytes
from tests.support.local_grid import LocalGrid


def _message(values: int) -> Message:
    content = RecordDict({"arrays": ArrayRecord([np.zeros(values, dtype=np.float32)]),
                          "config": ConfigRecord({"server-round": 1})})
    return Message(content, dst_node_id=7, message_type=MessageType.TRAIN)


class _EchoGrid(LocalGrid):
    """Answers each message with its own content (a reply as large as the message)."""

    def __init__(self) -> None:
        super().__init__(run_id=5, run_config={}, node_configs={})

    def send_and_receive(self, messages, *, timeout=None):
        return [Message(m.content, reply_to=m) for m in messages]


def test_message_bytes_is_the_serialized_length() -> None:
    _EchoGrid()  # sets the task identity a Message needs
    msg = _message(1000)
    assert message_bytes(msg) == len(message_to_proto(msg).SerializeToString())
    assert 4000 < message_bytes(msg) < 4300  # 1,000 float32 values plus framing


def test_counting_grid_counts_each_direction_and_resets() -> None:
    inner = _EchoGrid()
    grid = TrafficCountingGrid(inner)
    small, large = _message(10), _message(1000)
    replies = grid.send_and_receive([small, large], timeout=1)
    assert len(replies) == 2
    first = grid.take()
    assert first.sent == message_bytes(small) + message_bytes(large)
    assert first.received == sum(message_bytes(r) for r in replies)
    assert grid.take().sent == 0  # counted afresh after take()
    assert grid.run is inner.run  # everything else passes through
