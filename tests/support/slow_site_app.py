"""privfl's ClientApp with one simulated site slow inside secure aggregation (tests only).

The chosen site handles every message with privfl's own ClientApp (``client.app:app``:
its mods and handlers, unchanged); at one SecAgg+ stage of one round it then holds its
reply, and so the Ray actor running it, for up to ``seconds`` before answering. The
coordinator sees a site that is slow inside that stage.

:func:`simulate` runs ``privfl simulate`` with this ClientApp in place of privfl's. The
delay comes from :data:`SLOW_ENV` (``site:stage:round:seconds``) and :data:`STATE_DIR_ENV`,
which the Ray workers inherit from the launcher's environment. In that folder the site
writes ``sleeping`` when it starts to hold its reply and ``woke`` when it answers; a
``release`` file written there ends the delay early, so a test need not wait it out.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from flwr.app import Context, Message
from flwr.app.message_type import MessageType
from flwr.clientapp import ClientApp

from client.app import app as privfl_app
from client.site import load_site_settings
from conf import protocol

APP_REF = "tests.support.slow_site_app:app"
SLOW_ENV = "PRIVFL_TEST_SLOW_SITE"
STATE_DIR_ENV = "PRIVFL_TEST_SLOW_SITE_DIR"
POLL_SECONDS = 0.2


@dataclass(frozen=True)
class Delay:
    """Which site is slow, at which stage of which round, for how long."""

    site: str
    stage: str
    round: int
    seconds: float

    def __str__(self) -> str:
        return f"{self.site}:{self.stage}:{self.round}:{self.seconds:g}"

    @classmethod
    def parse(cls, text: str) -> Delay:
        site, stage, server_round, seconds = text.split(":")
        if stage not in protocol.SECAGG_STAGES:
            raise ValueError(f"{stage!r} is not a secure-aggregation stage")
        return cls(site, stage, int(server_round), float(seconds))


class SlowSiteApp(ClientApp):
    """Delegates every message to privfl's ClientApp; the slow site then holds one reply."""

    def __call__(self, message: Message, context: Context) -> Message:
        reply = privfl_app(message, context)
        delay = _delay()
        if delay is not None and _hits(delay, message, context):
            _hold(delay, Path(os.environ[STATE_DIR_ENV]))
        return reply


app = SlowSiteApp()


def simulate(overrides: list[str]) -> int:
    """``privfl simulate OVERRIDES``, the Simulation Runtime running :data:`app`."""
    import simulations.runtime
    from privfl.cli import main

    simulations.runtime.CLIENT_APP = APP_REF  # read by write_app_dir and run_federation
    return main(["simulate", *overrides])


def _delay() -> Delay | None:
    text = os.environ.get(SLOW_ENV)
    return Delay.parse(text) if text else None


def _hits(delay: Delay, message: Message, context: Context) -> bool:
    config = message.content.config_records.get(protocol.CONFIG)
    return (message.metadata.message_type == MessageType.TRAIN and config is not None
            and config.get(protocol.SECAGG_STAGE) == delay.stage
            and int(config["server-round"]) == delay.round
            and load_site_settings(context).site == delay.site)


def _hold(delay: Delay, folder: Path) -> None:
    """Sleep up to ``delay.seconds``, or until a ``release`` file appears."""
    started = time.time()
    _note(folder / "sleeping", {"delay": str(delay), "at": started, "pid": os.getpid()})
    deadline = time.monotonic() + delay.seconds
    while time.monotonic() < deadline and not (folder / "release").exists():
        time.sleep(POLL_SECONDS)
    released = (folder / "release").exists()
    _note(folder / "woke", {"at": time.time(), "slept": time.time() - started,
                            "released": released})


def _note(path: Path, record: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record))
    tmp.replace(path)
