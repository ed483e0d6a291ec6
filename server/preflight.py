"""Before round 1: ask every site whether it can take part in the whole run.

Each site checks its settings, data, δ and whether its remaining budget covers every
planned round; the coordinator learns names and refusals and excludes refusing sites
before any training starts.
"""

from __future__ import annotations

import logging
import time

from flwr.app import ConfigRecord, Message, RecordDict
from flwr.serverapp import Grid

from conf import protocol
from server.replies import error_reason, site_record
from server.roster import SiteRoster

log = logging.getLogger("privfl")


def wait_for_sites(grid: Grid, expected: int, timeout: float) -> list[int]:
    """Node ids once ``expected`` sites are connected, or all there are at ``timeout``."""
    deadline = time.monotonic() + timeout
    while len(nodes := list(grid.get_node_ids())) < expected and time.monotonic() < deadline:
        time.sleep(0.5)
    return nodes


def preflight(grid: Grid, roster: SiteRoster, expected: int, timeout: float) -> list[dict]:
    """Register every connected site; return the refusals (site, kind, reason)."""
    nodes = wait_for_sites(grid, expected, timeout)
    messages = [
        Message(RecordDict({protocol.CONFIG: ConfigRecord()}), dst_node_id=node,
                message_type=f"query.{protocol.PREFLIGHT}")
        for node in nodes
    ]
    answered: set[int] = set()
    refusals: list[dict] = []
    for reply in grid.send_and_receive(messages, timeout=timeout):
        node = reply.metadata.src_node_id
        answered.add(node)
        site = site_record(reply)
        if site is None:
            reason = error_reason(reply) if reply.has_error() else "malformed preflight reply"
            refusals.append(_exclude(roster, node, "error", reason))
            continue
        name = str(site["site"])
        holder = roster.holder(name)
        twin = holder if holder not in (None, node) else None
        record = roster.add(node, name)
        if twin is not None:
            refusals.append(_exclude(roster, node, "duplicate",
                                     f"site name {name!r} is already used by node {twin}"))
        elif site[protocol.STATUS] == protocol.REFUSED:
            record.refusals += 1
            refusals.append(_exclude(roster, node, str(site[protocol.KIND]),
                                     str(site[protocol.REASON])))
    for node in set(nodes) - answered:
        refusals.append(_exclude(roster, node, "timeout", f"no reply within {timeout:g} s"))
    return refusals


def _exclude(roster: SiteRoster, node: int, kind: str, reason: str) -> dict:
    roster.exclude(node, reason)
    log.warning("%s cannot take part: %s", roster.label(node), reason)
    return {"site": roster.get(node).site, "stage": "preflight", "kind": kind, "reason": reason}
