"""Before round 1 (``synthetic.publish``): ask every usable site for a synthetic copy of its
training rows and keep the pooled table, with per-site provenance, in the run directory.

``synthetic/pooled.csv`` holds every published row plus a ``site`` column naming the
site that published it; ``synthetic/provenance.json`` holds, per site, what it published
(rows, synthesizer, ε/δ/accountant/unit or "not DP", the site's own report) or why it
did not (refusal, error, no reply, excluded at preflight). A site that does not publish
still trains: publication is not a condition of taking part.
"""

from __future__ import annotations

import io
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from flwr.app import ConfigRecord, Message, RecordDict
from flwr.serverapp import Grid

from conf import protocol
from conf.schema import ExperimentConfig
from server.outputs import RunOutputs
from server.replies import error_reason, site_record
from server.roster import SiteRoster
from server.round_reporter import epsilon_label
from tasks.base import Task
from tasks.io import write_table

log = logging.getLogger("privfl")

FOLDER = "synthetic"
POOLED = f"{FOLDER}/pooled.csv"
PROVENANCE = f"{FOLDER}/provenance.json"
PROVENANCE_COLUMN = "site"
PUBLISHED = "published"


@dataclass
class SiteSynthesis:
    """What one site did when asked to publish: ``published`` (with its report),
    ``refused`` (kind and reason), ``error``, ``timeout`` or ``excluded`` (at preflight)."""

    site: str
    node_id: int
    status: str
    rows: int = 0
    report: dict[str, Any] | None = None
    kind: str | None = None
    reason: str | None = None

    @property
    def privacy(self) -> dict[str, Any]:
        """The privacy section of the site's report (empty unless published)."""
        return (self.report or {}).get("privacy", {})

    def to_dict(self) -> dict[str, Any]:
        """The site's provenance entry."""
        entry: dict[str, Any] = {"status": self.status, "node_id": self.node_id}
        if self.status == PUBLISHED:
            entry.update(rows=self.rows, synthesizer=(self.report or {}).get("synthesizer"),
                         privacy=_privacy_facts(self.privacy), report=self.report)
        else:
            entry.update(kind=self.kind, reason=self.reason)
        return entry


@dataclass
class SyntheticPool:
    """The pooled synthetic table and where each of its rows came from."""

    cfg: ExperimentConfig
    table: pd.DataFrame
    sites: list[SiteSynthesis] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def published(self) -> list[SiteSynthesis]:
        return [s for s in self.sites if s.status == PUBLISHED]

    def provenance(self) -> dict[str, Any]:
        """``synthetic/provenance.json``."""
        syn = self.cfg.synthetic
        return {
            "file": "pooled.csv",
            "provenance_column": PROVENANCE_COLUMN,
            "pooled_rows": len(self.table),
            "synthesizer": syn.synthesizer,
            "differentially_private": syn.private,
            "epsilon_per_site": syn.epsilon if syn.private else None,
            "unit": "record" if syn.private else None,
            "sites_published": len(self.published),
            "sites_asked": sum(s.status != "excluded" for s in self.sites),
            "seconds": self.seconds,
            "sites": {s.site: s.to_dict() for s in sorted(self.sites, key=lambda s: s.site)},
        }

    def privacy_record(self) -> dict[str, Any]:
        """The ``synthetic`` section of ``privacy.json``."""
        syn = self.cfg.synthetic
        if syn.private:
            statement = (
                f"Each published table is (ε={syn.epsilon:g}, δ)-DP for one record of its site "
                "(dp_mst, rho-zCDP, rdp accountant, unit=record), charged to the site's ledger "
                "as round 0 of this run. It is inside the site's record-level ε for this run "
                "(sites.<site>.run_epsilon composes it with the DP-SGD rounds), which stays at "
                "most privacy.epsilon.")
        else:
            statement = (f"NOT differentially private: synthetic.synthesizer={syn.synthesizer}; "
                         "the published tables are covered by no ε (see uncovered_releases).")
        return {
            "synthesizer": syn.synthesizer,
            "differentially_private": syn.private,
            "statement": statement,
            "files": [POOLED, PROVENANCE],
            "sites": {s.site: {"status": s.status, **(_privacy_facts(s.privacy) if
                                                      s.status == PUBLISHED else
                                                      {"reason": s.reason})}
                      for s in sorted(self.sites, key=lambda s: s.site)},
        }

    def uncovered_releases(self) -> list[str]:
        """What the publication released that no ε covers."""
        released = []
        nondp = [s.site for s in self.published if not s.privacy.get("differentially_private")]
        if nondp:
            released.append(f"synthetic tables of {', '.join(nondp)} "
                            f"({self.cfg.synthetic.synthesizer}): NOT differentially private, "
                            "published with each site's opt-in after its release gate passed")
        stats = [s.site for s in self.published if (s.report or {}).get("statistics")]
        if stats:
            released.append(f"statistics in the synthesis reports of {', '.join(stats)}: "
                            "computed on real rows without noise (each site allowed it, "
                            "allow-synthetic-statistics=true)")
        if self.published:
            count = ("with synthetic.rows=0 its training row count" if
                     self.cfg.synthetic.rows == 0 and not self.cfg.synthetic.private else
                     "declared, or for dp_mst with synthetic.rows=0 MST's DP estimate of its "
                     "training rows, covered by its ε")
            released.append(f"synthesis reports: each site's synthetic row count ({count}) and "
                            "its fitting times; a refusal's reason")
        return released


def collect_synthetic(grid: Grid, roster: SiteRoster, cfg: ExperimentConfig, task: Task,
                      outputs: RunOutputs) -> SyntheticPool:
    """Ask every usable site to publish; write ``pooled.csv`` and ``provenance.json``."""
    started = time.monotonic()
    nodes = roster.usable_ids()
    sites = [SiteSynthesis(r.site, r.node_id, "excluded", reason=r.excluded)
             for r in roster.sites.values() if not r.usable]
    messages = [Message(RecordDict({protocol.CONFIG: ConfigRecord()}), dst_node_id=node,
                        message_type=f"query.{protocol.SYNTHESIZE}") for node in nodes]
    tables: list[pd.DataFrame] = []
    answered: set[int] = set()
    replies = grid.send_and_receive(messages, timeout=cfg.strategy.round_timeout) if messages \
        else []
    for reply in replies:
        node = reply.metadata.src_node_id
        answered.add(node)
        entry, table = _read_reply(reply, roster, task)
        sites.append(entry)
        if table is not None:
            tables.append(table.assign(**{PROVENANCE_COLUMN: entry.site}))
        else:
            log.warning("%s did not publish a synthetic table (%s): %s", roster.label(node),
                        entry.status, entry.reason)
    for node in set(nodes) - answered:
        reason = f"no reply within {cfg.strategy.round_timeout:g} s"
        sites.append(SiteSynthesis(roster.get(node).site, node, "timeout", reason=reason))
        log.warning("%s did not publish a synthetic table: %s", roster.label(node), reason)
    columns = [PROVENANCE_COLUMN, *_columns(task)]
    pooled = (pd.concat(tables, ignore_index=True)[columns] if tables
              else pd.DataFrame(columns=columns))
    pool = SyntheticPool(cfg, pooled, sites, time.monotonic() - started)
    (outputs.root / FOLDER).mkdir(parents=True, exist_ok=True)
    write_table(pooled, outputs.root / POOLED)
    outputs.write_json(PROVENANCE, pool.provenance())
    print(_line(pool, len(nodes)), flush=True)
    return pool


def read_pooled(text: bytes | str, task: Task) -> pd.DataFrame:
    """A CSV of synthetic rows as the coordinator reads it: categorical columns (and the
    label) as strings, empty cells as missing, nothing else taken for missing."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    strings = {spec.name: str for spec in task.features if spec.type == "categorical"}
    strings[task.label.name] = str
    strings[PROVENANCE_COLUMN] = str
    return pd.read_csv(io.BytesIO(data), dtype=strings, keep_default_na=False, na_values=[""])


def _read_reply(reply: Message, roster: SiteRoster, task: Task
                ) -> tuple[SiteSynthesis, pd.DataFrame | None]:
    node = reply.metadata.src_node_id
    name = roster.get(node).site
    site = site_record(reply)
    if site is None:
        reason = error_reason(reply) if reply.has_error() else "malformed reply (no site record)"
        return SiteSynthesis(name, node, "error", reason=reason), None
    if site[protocol.STATUS] == protocol.REFUSED:
        return SiteSynthesis(name, node, "refused", kind=str(site[protocol.KIND]),
                             reason=str(site[protocol.REASON])), None
    try:
        record = reply.content[protocol.SYNTHETIC]
        report = json.loads(str(record[protocol.REPORT]))
        table = read_pooled(bytes(record[protocol.TABLE]), task)
    except (KeyError, TypeError, ValueError, pd.errors.ParserError) as err:
        return SiteSynthesis(name, node, "error",
                             reason=f"malformed synthesis reply ({type(err).__name__})"), None
    expected = _columns(task)
    if list(table.columns) != expected:
        return SiteSynthesis(name, node, "error", reason=(
            f"its table has columns {list(table.columns)[:5]}..., expected the declared "
            f"{expected[:5]}...")), None
    return SiteSynthesis(name, node, PUBLISHED, rows=len(table), report=report), table


def _columns(task: Task) -> list[str]:
    return [spec.name for spec in task.features] + [task.label.name]


def _privacy_facts(privacy: dict[str, Any]) -> dict[str, Any]:
    if not privacy.get("differentially_private"):
        return {"differentially_private": False,
                "epsilon": None, "statement": "not differentially private"}
    return {"differentially_private": True,
            **{k: privacy.get(k) for k in ("epsilon", "delta", "accountant", "unit")},
            "included_in_run_epsilon": bool(privacy.get("part_of_run_epsilon"))}


def _line(pool: SyntheticPool, asked: int) -> str:
    syn = pool.cfg.synthetic
    published = pool.published
    if syn.private and published:
        facts = published[0].privacy
        what = (f"{syn.synthesizer}, ε={syn.epsilon:g} per site "
                f"({epsilon_label(facts.get('accountant', '?'), facts.get('delta', 0.0), 'record')}"
                "), inside each site's ε for this run")
    else:
        what = f"{syn.synthesizer}, NOT DP" if not syn.private else syn.synthesizer
    return (f"synthetic: pooled {len(pool.table)} rows from {len(published)}/{asked} sites "
            f"({what}) in {POOLED}; {pool.seconds:.1f} s")
