"""``privfl deploy superlink certs=DIR [host=...] [port=...]``: the coordinator's
``flower-superlink`` with TLS and SuperNode authentication, the sites' public keys
registered, and the ``privfl`` Flower connection that ``privfl deploy run`` submits to."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from conf.deploy_schema import SuperlinkConfig
from conf.errors import ConfigError, PrivflError
from conf.flower_env import flower_env
from conf.key_values import parse_key_values
from conf.validate import build
from server.deployment.connection import CONNECTION, write_connection

START_TIMEOUT_SECONDS = 60.0
INSECURE_WARNING = ("privfl: WARNING: insecure=true: the SuperLink serves plaintext and "
                    "does not authenticate sites; anyone who reaches the port can join and "
                    "read the updates; use it only on a trusted test machine")


class SuperlinkError(PrivflError):
    """The SuperLink did not start or a site's key could not be registered."""


def superlink_command(cfg: SuperlinkConfig) -> list[str]:
    """The ``flower-superlink`` command line."""
    command = ["flower-superlink", "--host", cfg.host, "--port", str(cfg.port),
               "--disable-runtime-dependency-installation"]
    if cfg.database is not None:
        command += ["--database", cfg.database]
    if cfg.insecure:
        return [*command, "--insecure"]
    certs = Path(str(cfg.certs))
    return [*command, "--ssl-ca-certfile", str(certs / "ca.crt"),
            "--ssl-certfile", str(certs / "superlink" / "server.crt"),
            "--ssl-keyfile", str(certs / "superlink" / "server.key"),
            "--enable-supernode-auth"]


def site_keys(cfg: SuperlinkConfig) -> list[Path]:
    """The sites' authentication public keys (``privfl certs``: superlink/site-keys/)."""
    if cfg.insecure:
        return []
    if cfg.certs is None:
        raise ConfigError("certs: missing; give the folder `privfl certs` wrote (certs=DIR), "
                          "or insecure=true for a plaintext test SuperLink")
    certs = Path(cfg.certs)
    needed = [certs / "ca.crt", certs / "superlink" / "server.crt",
              certs / "superlink" / "server.key"]
    for path in needed:
        if not path.is_file():
            raise ConfigError(f"certs={cfg.certs}: {path} is missing; run `privfl certs "
                              f"out={cfg.certs} ...` first")
    keys = sorted((certs / "superlink" / "site-keys").glob("*.pub"))
    if not keys:
        raise ConfigError(f"certs={cfg.certs}: no site keys in superlink/site-keys/")
    return keys


def register(key: Path) -> None:
    """``flwr supernode register KEY privfl --name SITE``; a key the SuperLink already
    holds (a restart with ``database=``) counts as registered; SuperlinkError otherwise."""
    done = subprocess.run(["flwr", "supernode", "register", str(key), CONNECTION,
                           "--name", key.stem], capture_output=True, text=True,
                          env=flower_env(), check=False)
    output = done.stdout + done.stderr
    if "registered successfully" in output or "already in use" in output:
        return
    lines = output.strip().splitlines()
    raise SuperlinkError(f"registering {key.name} failed: "
                         f"{lines[-1] if lines else done.returncode}")


def wait_until_listening(process: subprocess.Popen, host: str, port: int) -> None:
    """Return once the SuperLink accepts connections on ``host:port``."""
    target = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SuperlinkError(f"flower-superlink exited with status {process.returncode}; "
                                 "see its output above")
        try:
            with socket.create_connection((target, port), timeout=1.0):
                return
        except OSError:
            time.sleep(0.3)
    raise SuperlinkError(f"flower-superlink did not listen on port {port} within "
                         f"{START_TIMEOUT_SECONDS:g} s")


def deploy_superlink(args: list[str]) -> int:
    """Start the SuperLink, register the sites, serve until stopped (Ctrl-C, SIGTERM)."""
    cfg = build(SuperlinkConfig, parse_key_values(args, "privfl deploy superlink"), "")
    keys = site_keys(cfg)
    address = cfg.address or f"127.0.0.1:{cfg.port}"
    write_connection(address, None if cfg.insecure else Path(str(cfg.certs)) / "ca.crt")
    if cfg.insecure:
        print(INSECURE_WARNING, file=sys.stderr, flush=True)
    process = subprocess.Popen(superlink_command(cfg), env=flower_env())
    signal.signal(signal.SIGTERM, lambda *_: process.terminate())
    try:
        wait_until_listening(process, cfg.host, cfg.port)
        for key in keys:
            register(key)
        print(f"privfl: SuperLink on {cfg.host}:{cfg.port} "
              f"({'PLAINTEXT' if cfg.insecure else 'TLS, site authentication'}); "
              f"{len(keys)} site keys registered: {', '.join(k.stem for k in keys)}; "
              f"submit runs with `privfl deploy run ...` (connection {CONNECTION!r} "
              f"to {address})", flush=True)
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        return process.wait()
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)
