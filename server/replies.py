"""Reading what a site sent back: its error reason, or its ``site`` record."""

from __future__ import annotations

from flwr.app import ConfigRecord, Message

from conf import protocol


def error_reason(msg: Message) -> str:
    """The last line of an error reply's reason (a traceback's final line)."""
    lines = msg.error.reason.strip().splitlines()
    return lines[-1] if lines else "unknown error"


def site_record(msg: Message) -> ConfigRecord | None:
    """The reply's ``site`` record, or None when the reply is an error or malformed."""
    if msg.has_error():
        return None
    record = msg.content.config_records.get(protocol.SITE)
    return record if record is not None and protocol.STATUS in record else None
