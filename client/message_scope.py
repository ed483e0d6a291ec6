"""The run config and site settings of the message being handled, resolved once.

``client.mods.site_policy`` resolves them when a message arrives and checks the message
against the site's policy; the handlers and the SecAgg+ stages read the same values
with :func:`current` instead of resolving them again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from flwr.app import Context

from client.site import load_site_settings
from conf.run_config import from_run_config
from conf.schema import ExperimentConfig
from conf.site import SiteSettings

_CURRENT: ContextVar[MessageScope] = ContextVar("privfl-message-scope")


@dataclass(frozen=True)
class MessageScope:
    """What one message is handled under."""

    cfg: ExperimentConfig
    settings: SiteSettings
    run_id: str

    @classmethod
    def resolve(cls, context: Context) -> MessageScope:
        """Validate the run config and read the site's own settings (ConfigError if bad)."""
        return cls(from_run_config(context.run_config), load_site_settings(context),
                   str(context.run_id))


@contextmanager
def handling(scope: MessageScope) -> Iterator[None]:
    """Make ``scope`` the :func:`current` one while a message is handled."""
    token = _CURRENT.set(scope)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def current() -> MessageScope:
    """The scope of the message being handled (set by the site-policy mod)."""
    try:
        return _CURRENT.get()
    except LookupError:
        raise RuntimeError("no message scope: the ClientApp's site-policy mod must run "
                           "before every handler") from None
