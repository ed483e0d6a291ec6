"""``privfl ledger``: print, create, re-budget or seal a site's privacy ledger."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

USAGE = """privfl ledger PATH [--key KEY] [--json]      print (and verify) a site's ledger
privfl ledger init PATH --site NAME --budget EPS --delta DELTA [--accountant rdp|prv] [--key KEY]
privfl ledger set-budget PATH EPS [--key KEY]   change the site's lifetime budget
privfl ledger upgrade PATH [--key KEY]          seal a privfl-ledger/1 file as it stands"""


def ledger_command(args: list[str]) -> int:
    """Dispatch ``privfl ledger`` (its errors are PrivflErrors: one line, exit 2)."""
    actions = {"init": _init, "set-budget": _set_budget, "upgrade": _upgrade}
    if args and args[0] in actions:
        return actions[args[0]](args[1:])
    return _show(args)


def _parser(action: str, description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"privfl ledger {action}".rstrip(),
                                     description=description, usage=USAGE)
    parser.add_argument("path", help="the site's ledger file (JSON)")
    parser.add_argument("--key", help="the ledger's key file (default: PATH.key)")
    return parser


def _show(args: list[str]) -> int:
    from privacy.ledger import Ledger
    from privacy.ledger_report import format_ledger, ledger_summary

    parser = _parser("", "Print a site's privacy ledger after verifying its seal.")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    ns = parser.parse_args(args)
    ledger = Ledger.load(ns.path, ns.key)
    print(json.dumps(ledger_summary(ledger), indent=2) if ns.json else format_ledger(ledger))
    return 0


def _init(args: list[str]) -> int:
    from privacy.ledger import Ledger

    parser = _parser("init", "Create a site's ledger and its key, once.")
    parser.add_argument("--site", required=True, help="the site's name")
    parser.add_argument("--budget", required=True, type=float, help="lifetime ε budget")
    parser.add_argument("--delta", required=True, type=float, help="the site's δ")
    parser.add_argument("--accountant", default="rdp", help="rdp (default) or prv")
    ns = parser.parse_args(args)
    ledger = Ledger.create(ns.path, key_path=ns.key, site=ns.site, delta=ns.delta,
                           accountant=ns.accountant, budget=ns.budget)
    print(f"privfl: created the ledger of site {ledger.site!r} at {ledger.path}, sealed with "
          f"the key {ledger.key_path} (mode 0600: back both up together, keep the key where "
          f"the ledger's editors cannot read it); budget ε={ledger.budget:g} "
          f"({ledger.accountant}, δ={ledger.delta:g}, unit=record)")
    return 0


def _set_budget(args: list[str]) -> int:
    from privacy.ledger import Ledger

    parser = _parser("set-budget", "Change a site's lifetime ε budget (the site's decision).")
    parser.add_argument("budget", type=float, help="the new lifetime ε budget")
    ns = parser.parse_args(args)
    loaded = Ledger.load(ns.path, ns.key)
    ledger = Ledger.open(ns.path, key_path=ns.key, site=loaded.site, delta=loaded.delta,
                         accountant=loaded.accountant, budget=loaded.budget)
    old = ledger.budget
    ledger.set_budget(ns.budget)
    unit = f"({ledger.accountant}, δ={ledger.delta:g}, unit=record)"
    print(f"privfl: site {ledger.site!r}: lifetime budget ε {old:g} -> {ledger.budget:g} "
          f"{unit}, ε spent {ledger.spent():.4g}; set the same budget in the site's own "
          "settings")
    return 0


def _upgrade(args: list[str]) -> int:
    from privacy.atomic import file_lock
    from privacy.ledger_file import upgrade
    from privacy.ledger_seal import default_key_path

    ns = _parser("upgrade", "Seal a privfl-ledger/1 ledger as it stands, with a new key."
                 ).parse_args(args)
    key = ns.key or default_key_path(ns.path)
    with file_lock(ns.path):
        charges = upgrade(Path(ns.path), Path(key))
    print(f"privfl: sealed {ns.path} ({charges} charge(s) carried over as they stood) with "
          f"the new key {key}; from now on an edit is refused")
    return 0

