"""The ``privfl`` console script: ``privfl <command> [Hydra overrides | args]``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable


def _simulate(args: list[str]) -> int:
    from conf.errors import ConfigError
    from conf.precheck import precheck

    try:
        precheck(args)
    except ConfigError as err:
        print(f"privfl: error: {err}", file=sys.stderr)
        return 2
    from simulations.launcher import simulate

    sys.argv = ["privfl simulate", *args]
    simulate()
    return 0


def _ledger(args: list[str]) -> int:
    from conf.errors import PrivflError
    from privacy.ledger import Ledger
    from privacy.ledger_report import format_ledger, ledger_summary

    parser = argparse.ArgumentParser(prog="privfl ledger",
                                     description="Print a site's privacy ledger.")
    parser.add_argument("path", help="the site's ledger file (JSON)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    ns = parser.parse_args(args)
    try:
        ledger = Ledger.load(ns.path)
    except PrivflError as err:
        print(f"privfl: error: {err}", file=sys.stderr)
        return 2
    print(json.dumps(ledger_summary(ledger), indent=2) if ns.json else format_ledger(ledger))
    return 0


COMMANDS: dict[str, tuple[Callable[[list[str]], int], str]] = {
    "simulate": (_simulate, "run a federation in Flower's Simulation Runtime (Hydra overrides)"),
    "ledger": (_ledger, "print a site's privacy ledger: privfl ledger PATH [--json]"),
}


def usage() -> str:
    """The help text."""
    lines = ["usage: privfl <command> [arguments]", "", "commands:"]
    lines += [f"  {name:<10} {text}" for name, (_, text) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Dispatch to a subcommand."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0 if argv else 2
    name, *rest = argv
    if name not in COMMANDS:
        print(f"privfl: unknown command {name!r}\n{usage()}", file=sys.stderr)
        return 2
    return COMMANDS[name][0](rest)


if __name__ == "__main__":
    sys.exit(main())
