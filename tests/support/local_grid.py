"""The part of a Flower Grid that every in-process grid shares (tests and benchmarks).

One Context per node, kept between messages as a SuperNode keeps it, and the Grid
interface minus delivery: subclasses implement ``send_and_receive``.
"""

from __future__ import annotations

from collections.abc import Iterable

from flwr.app import Context, Message, RecordDict
from flwr.serverapp import Grid
from flwr.supercore.run import Run
from flwr.supercore.task_identity import TaskIdentity


class LocalGrid(Grid):
    """Nodes in this process, each with its own Context."""

    def __init__(self, run_id: int, run_config: dict, node_configs: dict[int, dict]) -> None:
        TaskIdentity.task_id = 1
        TaskIdentity.run_id = run_id
        TaskIdentity.node_id = 0
        self.contexts = {
            node: Context(run_id=run_id, node_id=node, node_config=config,
                          state=RecordDict(), run_config=dict(run_config))
            for node, config in node_configs.items()
        }
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
