"""A Flower Grid that runs the ClientApp in this process (tests only).

It keeps one Context per node, so the apps behave as on SuperNodes, and lets a test
inject faults: a node can crash or stay silent on a given message type, or on one stage
of secure aggregation (``"train/mask"``). It can also play a lying coordinator: ``rewrite``
sees the secure-aggregation payloads of each stage on their way to the sites and may
change them (see ``tests/support/lying_coordinator.py``). Every reply is kept in
``replies``. The real Simulation Runtime is exercised by the e2e tests; this grid makes
fault matrices fast.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from uuid import uuid4

from flwr.app import ConfigRecord, Error, Message
from flwr.clientapp import ClientApp

from conf import protocol
from tests.support.local_grid import LocalGrid

CRASH = "crash"
SILENT = "silent"

Rewrite = Callable[[str, int, dict[int, bytes]], dict[int, bytes]]
"""``rewrite(stage, server_round, payloads)``: the payloads (by destination node) of one
secure-aggregation stage as the coordinator sends them; returns the ones to replace."""


class InProcessGrid(LocalGrid):
    """Delivers each message by calling ``client_app`` directly."""

    def __init__(self, client_app: ClientApp, run_id: int, run_config: dict,
                 node_configs: dict[int, dict],
                 faults: dict[int, tuple[str, str]] | None = None,
                 rewrite: Rewrite | None = None) -> None:
        super().__init__(run_id, run_config, node_configs)
        self.client_app = client_app
        self.faults = faults or {}
        self.rewrite = rewrite
        self.delivered: list[tuple[int, str]] = []
        self.replies: list[tuple[int, str, Message]] = []  # (node, kind, reply)

    def send_and_receive(self, messages: Iterable[Message], *,
                         timeout: float | None = None) -> Iterable[Message]:
        messages = list(messages)
        if self.rewrite is not None:
            self._rewrite(messages)
        replies = []
        for msg in messages:
            node = msg.metadata.dst_node_id
            msg.metadata.__dict__["_message_id"] = str(uuid4())
            stage, fault = self.faults.get(node, ("", ""))
            hit = bool(fault) and _kind(msg).startswith(stage)
            if hit and fault == SILENT:
                continue
            self.delivered.append((node, msg.metadata.message_type))
            try:
                if hit and fault == CRASH:
                    raise RuntimeError(f"injected crash at node {node}")
                reply = self.client_app(msg, self.contexts[node])
            except Exception as err:  # what a SuperNode reports for a crashed ClientApp
                error = Error(code=0, reason=f"{type(err).__name__}: {err}")
                reply = Message(error, reply_to=msg)
            replies.append(reply)
            self.replies.append((node, _kind(msg), reply))
        return replies

    def _rewrite(self, messages: list[Message]) -> None:
        """Let ``rewrite`` change each secure-aggregation stage's payloads in place."""
        stages: dict[tuple[str, int], dict[int, Message]] = {}
        for msg in messages:
            config = msg.content.config_records.get(protocol.CONFIG)
            if config is None or protocol.SECAGG not in msg.content.config_records:
                continue
            key = (str(config[protocol.SECAGG_STAGE]), int(config["server-round"]))
            stages.setdefault(key, {})[msg.metadata.dst_node_id] = msg
        for (stage, server_round), batch in stages.items():
            payloads = {node: m.content[protocol.SECAGG][protocol.PAYLOAD]
                        for node, m in batch.items()}
            for node, payload in self.rewrite(stage, server_round, payloads).items():
                batch[node].content[protocol.SECAGG] = ConfigRecord({protocol.PAYLOAD: payload})


def _kind(msg: Message) -> str:
    """``train``, ``evaluate``, ... or ``train/<secagg stage>`` for secure-aggregation stages."""
    config = msg.content.config_records.get("config")
    stage = config.get("secagg-stage") if config else None
    return f"{msg.metadata.message_type}/{stage}" if stage else msg.metadata.message_type
