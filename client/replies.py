"""What a handler answered, as the site's mods read it."""

from __future__ import annotations

from flwr.app import Message

from conf import protocol


def answered_ok(reply: Message) -> bool:
    """True when ``reply`` is not an error and its ``site`` record says ok."""
    if reply.has_error():
        return False
    site = reply.content.config_records.get(protocol.SITE)
    return site is not None and site.get(protocol.STATUS) == protocol.OK
