"""The ``privfl`` console script: ``privfl <command> [Hydra overrides | args]``."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable

INFORMATIONAL = {"--help", "-h", "--hydra-help", "--cfg", "-c", "--info", "-i"}
"""Hydra flags that print help or the config and run nothing: no precheck for them."""


def _hydra_command(name: str, args: list[str], precheck: Callable[[list[str]], None],
                   app: str) -> int:
    """Check ``args`` (one-line error, exit 2), then run the Hydra app ``module:function``
    on them (imported only then: it pulls in Flower, torch or SDV)."""
    from conf.errors import ConfigError

    try:
        if not INFORMATIONAL & set(args):
            precheck(args)
    except ConfigError as err:
        print(f"privfl: error: {err}", file=sys.stderr)
        return 2
    module, function = app.split(":")
    sys.argv = [f"privfl {name}", *args]
    getattr(importlib.import_module(module), function)()
    return 0


def _simulate(args: list[str]) -> int:
    from conf.precheck import precheck

    return _hydra_command("simulate", args, precheck, "simulations.launcher:simulate")


def _synth(args: list[str]) -> int:
    from synthetic.precheck import precheck_synth

    return _hydra_command("synth", args, precheck_synth, "synthetic.app:synth")


def _audit(args: list[str]) -> int:
    from conf.audit_schema import validate_audit
    from conf.precheck import precheck

    return _hydra_command("audit", args, lambda a: precheck(a, "audit", validate_audit),
                          "simulations.audit:audit")


def _ledger(args: list[str]) -> int:
    from privfl.ledger_command import ledger_command

    return _one_line_errors(lambda: ledger_command(args))


def _report(args: list[str]) -> int:
    from conf.errors import PrivflError

    parser = argparse.ArgumentParser(
        prog="privfl report",
        description="Rebuild report.html and report.md of a run or a sweep from its files.")
    parser.add_argument("path", help="a run directory (runs/<date>/<time>) or a sweep "
                                     "directory (runs/multirun/<date>/<time>)")
    ns = parser.parse_args(args)
    from server.report.write import write_report

    try:
        path = write_report(ns.path)
    except PrivflError as err:
        print(f"privfl: error: {err}", file=sys.stderr)
        return 2
    print(f"report: {path} and {path.with_suffix('.md')}")
    return 0
def _certs(args: list[str]) -> int:
    from conf.deploy_schema import CertsConfig
    from conf.key_values import parse_key_values
    from conf.validate import build
    from server.deployment.certs import write_certs

    def run() -> int:
        cfg = build(CertsConfig, parse_key_values(args, "privfl certs"), "")
        written = write_certs(cfg)
        print(f"privfl: wrote {len(written)} files to {cfg.out}: CA (ca.crt, ca.key), the "
              f"SuperLink's certificate for {', '.join(cfg.hosts)} (superlink/), one bundle "
              f"per site (sites/<site>/: ca.crt, auth.key, auth.pub, identity.key, "
              f"roster.json); private keys are mode 0600: send each site only its folder")
        return 0

    return _one_line_errors(run)


DEPLOY_ROLES = {
    "superlink": "server.deployment.superlink:deploy_superlink",
    "supernode": "client.deployment.supernode:deploy_supernode",
    "app-hash": "client.deployment.supernode:print_app_hash",
}


def _deploy(args: list[str]) -> int:
    roles = ", ".join([*DEPLOY_ROLES, "run"])
    if not args or args[0] not in (*DEPLOY_ROLES, "run"):
        print(f"privfl: error: privfl deploy ROLE ...: ROLE is one of {roles} "
              "(docs/deployment.md)", file=sys.stderr)
        return 2
    role, *rest = args
    if role == "run":
        from conf.precheck import precheck

        return _hydra_command("deploy run", rest, precheck,
                              "server.deployment.submit:deploy_run")
    module, function = DEPLOY_ROLES[role].split(":")
    return _one_line_errors(lambda: getattr(importlib.import_module(module), function)(rest))


def _one_line_errors(run: Callable[[], int]) -> int:
    """``run()``; a PrivflError becomes ``privfl: error: ...`` and exit status 2."""
    from conf.errors import PrivflError

    try:
        return run()
    except PrivflError as err:
        print(f"privfl: error: {err}", file=sys.stderr)
        return 2


COMMANDS: dict[str, tuple[Callable[[list[str]], int], str]] = {
    "simulate": (_simulate, "run a federation in Flower's Simulation Runtime (Hydra overrides)"),
    "synth": (_synth, "write a synthetic copy of a site's table + report (docs/synthetic.md)"),
    "audit": (_audit, "empirical ε lower bound of a site's training (docs/audit.md)"),
    "ledger": (_ledger, "a site's privacy ledger: privfl ledger [init|set-budget|upgrade] "
                        "PATH ..."),
    "report": (_report, "rebuild a run's or sweep's report: privfl report DIR (docs/report.md)"),
    "certs": (_certs, "CA, SuperLink certificate, site keys: privfl certs out=DIR sites=N "
                      "hosts=[...]"),
    "deploy": (_deploy, "privfl deploy superlink|run|supernode|app-hash ... "
                        "(docs/deployment.md)"),
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
