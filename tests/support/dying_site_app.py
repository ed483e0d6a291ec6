"""privfl's ClientApp with one simulated site whose Ray actor dies (tests only).

From round :data:`ROUND_ENV` on, the site named by :data:`SITE_ENV` kills the process it
runs in (the Ray actor) when a training message reaches it, before it answers: the
fault a killed ClientApp actor is. Every other message, and every other site, is served
by privfl's own ClientApp unchanged. :func:`simulate` runs ``privfl simulate`` with it.
"""

from __future__ import annotations

import os

from flwr.app import Context, Message
from flwr.app.message_type import MessageType
from flwr.clientapp import ClientApp

from client.app import app as privfl_app
from client.site import load_site_settings
from conf import protocol

APP_REF = "tests.support.dying_site_app:app"
SITE_ENV = "PRIVFL_TEST_DYING_SITE"
ROUND_ENV = "PRIVFL_TEST_DYING_ROUND"


class DyingSiteApp(ClientApp):
    """Delegates to privfl's ClientApp; the chosen site's actor dies at its training."""

    def __call__(self, message: Message, context: Context) -> Message:
        config = message.content.config_records.get(protocol.CONFIG)
        if (message.metadata.message_type == MessageType.TRAIN and config is not None
                and int(config["server-round"]) >= int(os.environ[ROUND_ENV])
                and load_site_settings(context).site == os.environ[SITE_ENV]):
            os._exit(17)  # the actor process dies mid-message, as a killed one does
        return privfl_app(message, context)


app = DyingSiteApp()


def simulate(overrides: list[str]) -> int:
    """``privfl simulate OVERRIDES``, the Simulation Runtime running :data:`app`."""
    import simulations.runtime
    from privfl.cli import main

    simulations.runtime.CLIENT_APP = APP_REF
    return main(["simulate", *overrides])
