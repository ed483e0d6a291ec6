"""Bytes on the wire: a grid wrapper that adds up the serialized size of every message
the coordinator sends and every reply it receives.

A message's size is the length of its Flower protobuf serialization
(``flwr.common.serde.message_to_proto``: content and metadata), which is what the
SuperLink stores and ships to a SuperNode; transport framing, compression and TLS are
not counted. Under secure aggregation the wrapper sits below the SecAgg+ stages, so all
four stages are counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flwr.app import Message
from flwr.common.serde import message_to_proto, metadata_to_proto, recorddict_to_proto
from flwr.proto.message_pb2 import Message as ProtoMessage
from flwr.serverapp import Grid


def message_bytes(msg: Message, content_sizes: dict[int, int] | None = None) -> int:
    """The size in bytes of ``msg``'s protobuf serialization. ``content_sizes`` (by the
    content's ``id``) lets messages that share one content, as a strategy's messages to
    every site do, serialize it once."""
    if not msg.has_content():
        return message_to_proto(msg).ByteSize()
    sizes = {} if content_sizes is None else content_sizes
    content = sizes.get(id(msg.content))
    if content is None:
        content = sizes[id(msg.content)] = recorddict_to_proto(msg.content).ByteSize()
    header = ProtoMessage(metadata=metadata_to_proto(msg.metadata)).ByteSize()
    return header + _embedded_field_bytes(content)


def _embedded_field_bytes(length: int) -> int:
    """Bytes of an embedded-message field numbered below 16 holding ``length`` bytes: a
    one-byte tag, the length as a varint, the bytes."""
    return 1 + max(1, (length.bit_length() + 6) // 7) + length


@dataclass
class Traffic:
    """Bytes sent to the sites and received from them."""

    sent: int = 0
    received: int = 0


class TrafficCountingGrid:
    """A view of ``grid`` that counts the bytes of each exchange; :meth:`take` returns
    the count since the previous call (one round's traffic)."""

    def __init__(self, grid: Grid) -> None:
        self._grid = grid
        self._since = Traffic()

    def send_and_receive(self, messages: Iterable[Message], *,
                         timeout: float | None = None) -> Iterable[Message]:
        messages = list(messages)
        shared: dict[int, int] = {}
        self._since.sent += sum(message_bytes(m, shared) for m in messages)
        replies = list(self._grid.send_and_receive(messages, timeout=timeout))
        self._since.received += sum(message_bytes(m) for m in replies)
        return replies

    def take(self) -> Traffic:
        """The traffic since the last call, and start counting afresh."""
        taken, self._since = self._since, Traffic()
        return taken

    def __getattr__(self, name: str) -> Any:
        return getattr(self._grid, name)
