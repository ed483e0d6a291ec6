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

from flwr.app import ConfigRecord, Context, Error, Message, RecordDict
from flwr.clientapp import ClientApp
from flwr.serverapp import Grid
from flwr.supercore.run import Run
from flwr.supercore.task_identity import TaskIdentity

from conf import protocol

CRASH = "crash"
SILENT = "silent"

Rewrite = Callable[[str, int, dict[int, bytes]], dict[int, bytes]]
"""``rewrite(stage, server_round, payloads)``: the payloads (by destination node) of one
secure-aggregation stage as the coordinator sends them; returns the ones to replace."""


class InProcessGrid(Grid):
    """Delivers each message by calling ``client_app`` directly."""

    def __init__(self, client_app: ClientApp, run_id: int, run_config: dict,
                 node_configs: dict[int, dict],
                 faults: dict[int, tuple[str, str]] | None = None,
                 rewrite: Rewrite | None = None) -> None:
        TaskIdentity.task_id = 1
        TaskIdentity.run_id = run_id
        TaskIdentity.node_id = 0
        self.client_app = client_app
        self.contexts = {
            node: Context(run_id=run_id, node_id=node, node_config=config,
                          state=RecordDict(), run_config=dict(run_config))
            for node, config in node_configs.items()
        }
        self.faults = faults or {}
        self.rewrite = rewrite
        self.delivered: list[tuple[int, str]] = []
        self.replies: list[tuple[int, str, Message]] = []  # (node, kind, reply)
        self._run = Run.create_empty(run_id=run_id)

    def set_run(self, run: Run) -> None:
        self._run = run

    @property
    def run(self) -> Run:
        return self._run

    def create_message(self, content, message_type, dst_node_id, group_id, ttl=None):
        return Message(content, dst_node_id, message_type, ttl=ttl, group_id=group_id)

    def get_node_ids(self) -> Iterable[int]:
        return list(self.contexts)

    def get_nodes(self):
        raise NotImplementedError

    def push_messages(self, messages: Iterable[Message]) -> Iterable[str]:
        raise NotImplementedError

    def pull_messages(self, message_ids: Iterable[str]) -> Iterable[Message]:
        raise NotImplementedError

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
