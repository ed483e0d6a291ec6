"""A strategy decorator that keeps a run going when sites fail, refuse or run dry.

It wraps any Flower strategy without forking it: sampling sees only usable sites;
replies are screened before the inner strategy aggregates them. A site that errors,
does not reply or sends non-finite values (a diverged update) is logged by name, node
id and reason and left out of that round;
a site that refuses (budget exhausted, δ too large, bad data) is left out of every
later round. When fewer than ``min_sites`` usable sites remain, or a round's sampled
``min_sites`` come back with fewer trained, the run stops with
:class:`~server.errors.TooFewSitesError`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from flwr.app import ArrayRecord, ConfigRecord, Message, MetricRecord
from flwr.serverapp import Grid
from flwr.serverapp.strategy import Strategy

from conf import protocol
from conf.protocol import SitePrivacyReport
from privacy.secagg import train_sums
from server.errors import TooFewSitesError
from server.replies import error_reason, site_record
from server.roster import SiteRoster

log = logging.getLogger("privfl")


@dataclass
class RoundLog:
    """Who took part in one round, and what the sites' evaluation said."""

    server_round: int
    sampled: list[str] = field(default_factory=list)
    trained: list[str] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    refused: list[dict[str, str]] = field(default_factory=list)
    federated_evaluation: dict[str, float] = field(default_factory=dict)
    site_train: dict[str, dict[str, float | int | None]] = field(default_factory=dict)
    """Per site (secure aggregation off): train_loss, examples, clipped, clipped_fraction."""
    secure_train: dict[str, float | int] | None = None
    """Secure aggregation on: only the sums over sites (privacy.secagg.train_sums)."""


def _finite(msg: Message) -> bool:
    """True when every array and metric in the reply is a finite number."""
    arrays = msg.content.array_records.values()
    metrics = msg.content.metric_records.values()
    return (all(np.isfinite(a).all() for record in arrays for a in record.to_numpy_ndarrays())
            and all(np.isfinite(v).all() for record in metrics for v in record.values()))


def left_out(failed: list[dict], refused: list[dict], stage: str) -> list[dict]:
    """The failures and refusals of one round at ``stage`` (``train`` or ``evaluate``)."""
    return [e for e in (*failed, *refused) if e["stage"] == stage]


class _UsableSitesGrid:
    """A view of the grid whose node list holds only usable sites."""

    def __init__(self, grid: Grid, roster: SiteRoster) -> None:
        self._grid = grid
        self._roster = roster

    def get_node_ids(self) -> list[int]:
        return self._roster.usable_ids()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._grid, name)


class SiteGuard(Strategy):
    """Decorates ``inner`` with failure screening and site exclusion."""

    def __init__(self, inner: Strategy, roster: SiteRoster, min_sites: int,
                 timeout: float, *, secure: bool = False) -> None:
        self.inner = inner
        self.secure = secure
        self.roster = roster
        self.min_sites = min_sites
        self.timeout = timeout
        self.rounds: list[RoundLog] = []
        self._expected: list[int] = []

    @property
    def current(self) -> RoundLog:
        """The log of the round in progress."""
        return self.rounds[-1]

    def summary(self) -> None:
        self.inner.summary()

    def configure_train(self, server_round: int, arrays: ArrayRecord, config: ConfigRecord,
                        grid: Grid) -> Iterable[Message]:
        self.rounds.append(RoundLog(server_round))
        messages = self._configure(self.inner.configure_train, server_round, arrays, config,
                                   grid)
        self.current.sampled = [self.roster.get(n).site for n in self._expected]
        return messages

    def aggregate_train(self, server_round: int, replies: Iterable[Message]
                        ) -> tuple[ArrayRecord | None, MetricRecord | None]:
        valid = []
        for msg in self._screen(replies, "train"):
            node = msg.metadata.src_node_id
            site = msg.content[protocol.SITE]
            try:
                report = SitePrivacyReport.from_record(site) if "run_epsilon" in site else None
            except (TypeError, ValueError) as err:
                self._fail(node, "train", f"malformed privacy report ({err})")
                continue
            record = self.roster.get(node)
            record.rounds_trained += 1
            record.privacy = report or record.privacy
            self.current.trained.append(record.site)
            self._train_facts(record.site, msg.content.metric_records.get(protocol.METRICS))
            valid.append(msg)
        self._check_enough_trained(server_round)
        if self.secure:  # the survivors' "ok"s, and one of them carries the aggregate
            valid = [m for m in valid if protocol.ARRAYS in m.content.array_records]
        return self.inner.aggregate_train(server_round, valid)

    def _check_enough_trained(self, server_round: int) -> None:
        """Stop the run (before aggregating) when at least ``min_sites`` sites were sampled
        but fewer came back trained: sites failing or refusing, not a small draw."""
        round_log = self.current
        if len(round_log.sampled) >= self.min_sites > len(round_log.trained):
            missing = "; ".join(f"{e['site']}: {e['reason']}" for e in
                                left_out(round_log.failed, round_log.refused, "train"))
            raise TooFewSitesError(
                f"round {server_round}: only {len(round_log.trained)} of "
                f"{len(round_log.sampled)} sampled site(s) trained, min_sites={self.min_sites}; "
                f"the round is not aggregated (left out: {missing or 'none'})")

    def _train_facts(self, site: str, metrics: MetricRecord | None) -> None:
        """Keep what the reply says about training: the secure sums under secure
        aggregation, else the site's own loss, rows drawn and clipped count."""
        if metrics is None:
            return
        sums = train_sums.from_metrics(metrics)
        if sums is not None:
            self.current.secure_train = sums
        elif protocol.TRAIN_LOSS in metrics:
            examples = int(metrics.get(protocol.TRAIN_SAMPLES, 0))
            clipped = metrics.get(protocol.CLIPPED_SAMPLES)
            self.current.site_train[site] = {
                "train_loss": float(metrics[protocol.TRAIN_LOSS]),
                "examples": examples,
                "clipped": None if clipped is None else int(clipped),
                "clipped_fraction": clipped / examples if clipped is not None and examples
                else None,
            }

    def configure_evaluate(self, server_round: int, arrays: ArrayRecord, config: ConfigRecord,
                           grid: Grid) -> Iterable[Message]:
        if len(self.roster.usable_ids()) < self.min_sites:
            self._expected = []  # the round trained: keep it; the next round stops the run
            return []
        return self._configure(self.inner.configure_evaluate, server_round, arrays, config,
                               grid)

    def aggregate_evaluate(self, server_round: int, replies: Iterable[Message]
                           ) -> MetricRecord | None:
        metrics = self.inner.aggregate_evaluate(server_round, self._screen(replies, "evaluate"))
        if metrics is not None:
            self.current.federated_evaluation = {k: float(v) for k, v in metrics.items()}
        return metrics

    def _configure(self, configure: Callable[..., Iterable[Message]], server_round: int,
                   arrays: ArrayRecord, config: ConfigRecord, grid: Grid) -> list[Message]:
        usable = self.roster.usable_ids()
        if len(usable) < self.min_sites:
            excluded = "; ".join(
                f"{s.site}: {s.excluded}" for s in self.roster.sites.values() if not s.usable
            )
            raise TooFewSitesError(
                f"only {len(usable)} usable site(s) left before round {server_round}, "
                f"min_sites={self.min_sites}; excluded: {excluded or 'none'}"
            )
        messages = list(configure(server_round, arrays, config,
                                  _UsableSitesGrid(grid, self.roster)))
        self._expected = [m.metadata.dst_node_id for m in messages]
        return messages

    def _screen(self, replies: Iterable[Message], stage: str) -> list[Message]:
        """Drop (and log) errors, refusals and missing replies; return the rest."""
        valid: list[Message] = []
        answered: set[int] = set()
        for msg in replies:
            node = msg.metadata.src_node_id
            answered.add(node)
            site = site_record(msg)
            if msg.has_error():
                self._fail(node, stage, error_reason(msg))
            elif site is None:
                self._fail(node, stage, "malformed reply (no site record)")
            elif site[protocol.STATUS] == protocol.REFUSED:
                self._refuse(node, stage, site)
            elif not _finite(msg):
                self._fail(node, stage, "non-finite values (NaN/inf) in its reply")
            else:
                valid.append(msg)
        for node in self._expected:
            if node not in answered:
                self._fail(node, stage, f"no reply within {self.timeout:g} s")
        return valid

    def _fail(self, node: int, stage: str, reason: str) -> None:
        record = self.roster.get(node)
        record.failures += 1
        log.warning("%s failed in %s: %s; left out of this round",
                    self.roster.label(node), stage, reason)
        self.current.failed.append({"site": record.site, "stage": stage, "reason": reason})

    def _refuse(self, node: int, stage: str, site: ConfigRecord) -> None:
        record = self.roster.add(node, str(site["site"]))
        record.refusals += 1
        reason = str(site[protocol.REASON])
        self.roster.exclude(node, reason)
        log.warning("%s refused %s: %s; left out of later rounds",
                    self.roster.label(node), stage, reason)
        self.current.refused.append({"site": record.site, "stage": stage,
                                     "kind": str(site[protocol.KIND]), "reason": reason})
