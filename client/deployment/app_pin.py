"""The site runs only the app it agreed to: a pinned app digest, checked in the SuperNode.

Flower's own app verification (``flower-supernode --trusted-entities``) needs signatures
that only the Flower platform issues: a FAB submitted with ``flwr run`` from a folder
carries none (``verifications={}``), and the SuperNode then refuses every run ("App
verification is not supported by the connected SuperLink"). privfl therefore pins the
app by :func:`conf.flower_app.app_digest` in the site's config. The check runs in the
SuperNode process when it first fetches a run's FAB, before any ClientApp process is
started (a FAB's own files would come first on the ClientApp's ``sys.path``, so checking
inside the ClientApp would be too late). A refused run gets Flower's FAB-verification
error reply for every message; the coordinator sees the site fail its preflight.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from conf.flower_app import app_digest

log = logging.getLogger("privfl")


class _Verdict(dict):
    """Passed to flwr as ``trusted_entities``: truthy exactly when the FAB was refused,
    which makes flwr answer with its FAB-verification error instead of running it."""

    refused = False

    def __bool__(self) -> bool:
        return self.refused


def pin_app(pull_and_store: Callable[..., Any], expected: str) -> Callable[..., Any]:
    """Wrap flwr's ``_pull_and_store_message`` so a FAB whose digest is not ``expected``
    is refused before it is stored or run."""

    def pinned(**kwargs: Any) -> Any:
        verdict = _Verdict()
        get_fab = kwargs["get_fab"]

        def checked_get_fab(fab_hash: str, run_id: int) -> Any:
            fab = get_fab(fab_hash, run_id)
            try:
                digest = app_digest(fab.content)
            except ValueError as err:
                digest = f"unreadable ({err})"
            if digest != expected:
                verdict.refused = True
                log.error("refusing run %s: its app has digest %s, this site agreed to %s "
                          "(app_sha256 in the site's config)", run_id, digest, expected)
            return fab

        return pull_and_store(**{**kwargs, "get_fab": checked_get_fab,
                                 "trusted_entities": verdict})

    return pinned
