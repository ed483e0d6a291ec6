"""Who the sites are (node id -> site name) and whether they can still take part."""

from __future__ import annotations

from dataclasses import dataclass

from conf.protocol import SitePrivacyReport


@dataclass
class SiteRecord:
    """One site as the coordinator sees it during a run."""

    node_id: int
    site: str
    excluded: str | None = None
    rounds_trained: int = 0
    refusals: int = 0
    failures: int = 0
    privacy: SitePrivacyReport | None = None

    @property
    def usable(self) -> bool:
        """True while the site has not been excluded (refusal, exhausted budget)."""
        return self.excluded is None


class SiteRoster:
    """The sites of this run, keyed by Flower node id."""

    def __init__(self) -> None:
        self.sites: dict[int, SiteRecord] = {}

    def add(self, node_id: int, site: str) -> SiteRecord:
        """Register ``node_id`` under the name the site gave itself. The coordinator's
        records are keyed by node (the authenticated Flower node), so a name another node
        already holds is not taken over: this node is recorded as
        ``node-<id> (claims '<name>')`` and the other keeps its row."""
        record = self.get(node_id)
        if self.holder(site) not in (None, node_id):
            site = f"node-{node_id} (claims {site!r})"
        record.site = site
        return record

    def holder(self, site: str) -> int | None:
        """The node registered under ``site``, if any."""
        return next((n for n, r in self.sites.items() if r.site == site), None)

    def get(self, node_id: int) -> SiteRecord:
        """The record of ``node_id``; an unknown node is registered as ``node-<id>``."""
        return self.sites.setdefault(node_id, SiteRecord(node_id, f"node-{node_id}"))

    def exclude(self, node_id: int, reason: str) -> None:
        """Leave a site out of every later round."""
        self.get(node_id).excluded = reason

    def usable_ids(self) -> list[int]:
        """Node ids of the sites that may still be sampled."""
        return [n for n, s in self.sites.items() if s.usable]

    def label(self, node_id: int) -> str:
        """``site-3 (node 81234)`` for log lines."""
        return f"{self.get(node_id).site} (node {node_id})"

    def reports(self) -> list[SitePrivacyReport]:
        """The latest privacy report of every site that sent one."""
        return [s.privacy for s in self.sites.values() if s.privacy]

    def max_run_report(self) -> SitePrivacyReport | None:
        """The report of the site whose ε from this run is highest, or None without DP."""
        return max(self.reports(), key=lambda r: r.run_epsilon, default=None)
