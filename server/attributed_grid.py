"""Replies the SuperLink writes on a site's behalf, attributed to that site.

In deployment, when a site is unreachable (a SuperNode that stopped sending heartbeats),
Flower's SuperLink answers the coordinator's message itself with an error reply whose
``src_node_id`` is the SuperLink's own node id (1), not the site's. Every privfl server
component attributes a reply by ``src_node_id``; this grid view rewrites such replies to
the node the answered message was sent to, so the dead site, not a phantom "node 1", is
recorded as failed. The Simulation Runtime never produces such replies.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flwr.app import Message
from flwr.common.constant import SUPERLINK_NODE_ID
from flwr.serverapp import Grid


class AttributedGrid:
    """A view of ``grid`` whose replies always name the site they concern."""

    def __init__(self, grid: Grid) -> None:
        self._grid = grid

    def send_and_receive(self, messages: Iterable[Message], *,
                         timeout: float | None = None) -> list[Message]:
        messages = list(messages)
        replies = list(self._grid.send_and_receive(messages, timeout=timeout))
        sent_to = {m.metadata.message_id: m.metadata.dst_node_id for m in messages}
        for reply in replies:
            meta = reply.metadata
            if meta.src_node_id == SUPERLINK_NODE_ID and meta.reply_to_message_id in sent_to:
                meta.__dict__["_src_node_id"] = sent_to[meta.reply_to_message_id]
        return replies

    def __getattr__(self, name: str) -> Any:
        return getattr(self._grid, name)
