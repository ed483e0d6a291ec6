"""Turn a site's own refusals (budget, δ, data, settings) into a clear reply.

A handler raises a :class:`~conf.errors.PrivflError`; this mod answers the server with
a ``site`` ConfigRecord holding ``status=refused``, the error's kind and its message,
so the server can log the site by name and reason and carry on without it.
"""

from __future__ import annotations

import logging

from flwr.app import ConfigRecord, Context, Message, RecordDict
from flwr.clientapp.typing import ClientAppCallable

from client.site import load_site_settings
from conf import protocol
from conf.errors import PrivflError

log = logging.getLogger(__name__)


def refusals_mod(msg: Message, context: Context, call_next: ClientAppCallable) -> Message:
    """Answer with a refusal instead of an error when the site refuses the work."""
    try:
        return call_next(msg, context)
    except PrivflError as err:
        site = _site_name(context)
        log.warning("site %s refuses %s: %s", site, msg.metadata.message_type, err)
        record = ConfigRecord({
            "site": site,
            protocol.STATUS: protocol.REFUSED,
            protocol.KIND: type(err).__name__,
            protocol.REASON: str(err),
        })
        return Message(RecordDict({protocol.SITE: record}), reply_to=msg)


def _site_name(context: Context) -> str:
    try:
        return load_site_settings(context).site
    except PrivflError:
        return f"node-{context.node_id}"
