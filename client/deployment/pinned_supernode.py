"""``python -m client.deployment.pinned_supernode APP_SHA256 [flower-supernode args]``:
Flower's SuperNode, refusing every app but the pinned one (client/deployment/app_pin.py)."""

from __future__ import annotations

import sys

from flwr.supernode import start_client_internal
from flwr.supernode.cli import flower_supernode

from client.deployment.app_pin import pin_app
from conf.console import log_to_console


def main() -> None:
    """Install the pin, then run ``flower-supernode`` with the remaining arguments."""
    expected, *args = sys.argv[1:]
    log_to_console()
    start_client_internal._pull_and_store_message = pin_app(
        start_client_internal._pull_and_store_message, expected)
    sys.argv = ["flower-supernode", *args]
    flower_supernode()


if __name__ == "__main__":
    main()
