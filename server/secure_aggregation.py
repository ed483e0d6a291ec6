"""SecAgg+ at the coordinator: a grid wrapper that turns a strategy's training round into
the four protocol stages, so Flower's strategies (and DP wrappers) run unchanged.

``SecureAggregationGrid.send_and_receive`` receives the strategy's train messages, runs
advertise / share / mask / unmask (``privacy.secagg.server``) with a timeout per stage,
and answers with one reply per site: one surviving site's reply carries the aggregate
model (global + the weighted mean of the updates) and the secure sums
(``privacy.secagg.train_sums``, with ``num-examples`` = the survivors); every other
survivor's reply holds only its "ok" (``SiteGuard`` hands the strategy only the
carrier); a site that failed, timed out or refused at any stage gets an error (or its
refusal) naming the stage. If the round cannot complete, every site gets an error, the
sites that answered are told to forget the round (``abort``) and the strategy keeps the
model unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from flwr.app import (
    ConfigRecord,
    Error,
    Message,
    MetricRecord,
    RecordDict,
)
from flwr.app.message_type import MessageType
from flwr.serverapp import Grid

from conf import protocol
from conf.schema import ExperimentConfig
from privacy.secagg import train_sums, wire
from privacy.secagg.errors import SecAggError
from privacy.secagg.params import SecAggParams
from privacy.secagg.server import ServerRound
from server.arrays import add_update
from server.replies import error_reason, site_record

log = logging.getLogger("privfl")
T = TypeVar("T")


def secure_survivors(reply: Message) -> int | None:
    """How many sites' inputs the aggregate in ``reply`` sums (None: not a secure one)."""
    sums = train_sums.from_metrics(reply.content.metric_records.get(protocol.METRICS, {}))
    return None if sums is None else int(sums["sites"])


class SecureAggregationGrid:
    """A view of ``grid`` whose training rounds run under SecAgg+."""

    def __init__(self, grid: Grid, cfg: ExperimentConfig) -> None:
        self._grid = grid
        self._cfg = cfg

    def send_and_receive(self, messages: Iterable[Message], *,
                         timeout: float | None = None) -> list[Message]:
        messages = list(messages)
        if not messages or messages[0].metadata.message_type != MessageType.TRAIN:
            return list(self._grid.send_and_receive(messages, timeout=timeout))
        return SecureRound(self._grid, self._cfg, messages).run()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._grid, name)


class SecureRound:
    """One training round under SecAgg+; ``run`` returns one reply per sampled site."""

    def __init__(self, grid: Grid, cfg: ExperimentConfig, messages: list[Message]) -> None:
        self.grid = grid
        self.cfg = cfg
        self.train = {m.metadata.dst_node_id: m for m in messages}
        self.template = messages[0].content
        self.round = int(self.template[protocol.CONFIG]["server-round"])
        self.outcome: dict[int, Message] = {}
        self.sites: dict[int, ConfigRecord] = {}
        self.silent: set[int] = set()  # sites that did not answer a stage in time

    def run(self) -> list[Message]:
        try:
            self._run()
        except SecAggError as err:
            log.warning("secure aggregation round %d discarded: %s", self.round, err)
            for node in set(self.train) - set(self.outcome):  # keep refusals and errors
                self.outcome[node] = self._error(node, f"round discarded: {err}")
            self._abort(set(self.train) - self.silent)
        return list(self.outcome.values())

    def _abort(self, nodes: set[int]) -> None:
        """Tell the sites of the discarded round that answered (even with an error) to
        forget its secrets now; a silent one forgets them at its next message."""
        config = ConfigRecord({"server-round": self.round, protocol.SECAGG_STAGE: protocol.ABORT})
        messages = [Message(RecordDict({protocol.CONFIG: config}), dst_node_id=node,
                            message_type=MessageType.TRAIN) for node in sorted(nodes)]
        self.grid.send_and_receive(messages, timeout=self.cfg.secagg.stage_timeout)

    def _run(self) -> None:
        params = SecAggParams.for_cohort(self.cfg.secagg, len(self.train))
        server = ServerRound(params, run=str(self.grid.run.run_id), round=self.round)
        ads = self._stage(protocol.ADVERTISE, dict.fromkeys(self.train, b""), params,
                          wire.load_ad)
        params = server.params = SecAggParams.for_cohort(self.cfg.secagg, len(ads))
        hoods = server.neighbourhoods(ads)
        cohort = wire.dump_ads(ads)  # every site checks the cohort it is told against these
        sealed = self._stage(protocol.SHARE, {
            n: wire.dumps({"cohort": cohort, "neighbours": sorted(hood)})
            for n, hood in hoods.items()}, params, wire.load_sealed)
        inbox = server.route(sealed)
        masked = self._stage(protocol.MASK, {
            n: wire.dumps({"inbox": wire.dump_sealed(box)})
            for n, box in inbox.items()}, params, wire.load_masked, with_model=True)
        arrays = self.template[protocol.ARRAYS]
        length = sum(a.size for a in arrays.to_numpy_ndarrays())
        extra = 1 + len(train_sums.FIELDS)  # the weight, then the training facts
        requests = server.unmask_requests(masked, width=length + extra)
        rejected = {r for m in masked.values() for r in m.rejected}
        for node in set(masked) - set(server.inputs):
            self.outcome[node] = self._error(
                node, "left out: a neighbour rejected its share ciphertext (tampered or "
                      "replayed)" if node in rejected else
                      f"left out: its masked vector is not {length + extra} values long")
        shares = self._stage(protocol.UNMASK, {n: wire.dump_request(r)
                                               for n, r in requests.items()}, params,
                             wire.load_shares)
        total, survivors, exact = server.aggregate(shares, length, exact=extra)
        weight = int(exact[0])
        if weight <= 0:
            raise SecAggError("the survivors' total weight is 0")
        mean = total * (self.cfg.secagg.max_weight / weight)
        aggregate = add_update(arrays, mean)
        metrics = MetricRecord({protocol.NUM_EXAMPLES: survivors,
                                **train_sums.as_metrics(train_sums.decode(exact[1:], survivors))})
        carrier = min(server.inputs)
        for node in server.inputs:
            if node in self.outcome:  # its masked input arrived, so it counts anyway
                log.warning("secure aggregation round %d: node %d did not complete the unmask "
                            "stage (error or refusal); its input is in the aggregate",
                            self.round, node)
            content = RecordDict({protocol.SITE: self.sites[node]})
            if node == carrier:  # the one aggregate, once
                content[protocol.ARRAYS] = aggregate
                content[protocol.METRICS] = metrics
            self.outcome[node] = Message(content, reply_to=self.train[node])

    def _stage(self, stage: str, payloads: dict[int, bytes], params: SecAggParams,
               load: Callable[[bytes], T], *, with_model: bool = False) -> dict[int, T]:
        """Send one stage to the sites still in the round; return their decoded answers
        (a site whose answer does not decode drops out)."""
        config = {"server-round": self.round, protocol.SECAGG_STAGE: stage}
        if with_model:
            config = {**self.template[protocol.CONFIG], **config}
        messages = []
        for node, payload in payloads.items():
            records: dict[str, Any] = {
                protocol.CONFIG: ConfigRecord(config),
                protocol.SECAGG: ConfigRecord({protocol.PAYLOAD: payload}),
            }
            if with_model:
                records[protocol.ARRAYS] = self.template[protocol.ARRAYS]
            messages.append(Message(RecordDict(records), dst_node_id=node,
                                    message_type=MessageType.TRAIN))
        answers: dict[int, bytes] = {}
        for reply in self.grid.send_and_receive(messages, timeout=params.stage_timeout):
            node = reply.metadata.src_node_id
            site = site_record(reply)
            if site is None:
                reason = error_reason(reply) if reply.has_error() else "malformed reply"
                self.outcome[node] = self._error(node, f"stage {stage}: {reason}")
            elif site[protocol.STATUS] != protocol.OK:
                self.outcome[node] = Message(reply.content, reply_to=self.train[node])
            elif protocol.SECAGG not in reply.content.config_records:
                self.outcome[node] = self._error(node, f"stage {stage}: malformed reply")
            else:
                if stage == protocol.MASK:  # the training reply's site record: ε report
                    self.sites[node] = site
                answers[node] = reply.content[protocol.SECAGG][protocol.PAYLOAD]
        for node in set(payloads) - set(answers) - set(self.outcome):
            self.silent.add(node)
            self.outcome[node] = self._error(
                node, f"stage {stage}: no reply within {params.stage_timeout:g} s")
        parsed = {}
        for node, payload in answers.items():
            try:
                parsed[node] = load(payload)
            except (ValueError, TypeError, KeyError, AttributeError) as err:
                self.outcome[node] = self._error(node, f"stage {stage}: malformed payload "
                                                       f"({type(err).__name__})")
        return parsed

    def _error(self, node: int, reason: str) -> Message:
        return Message(Error(code=0, reason=f"secure aggregation {reason}"),
                       reply_to=self.train[node])

