"""Typed arguments of ``privfl certs`` and ``privfl deploy superlink|supernode``, and the
schema of a data site's own config file; built with ``conf.validate.build`` so a bad value
stops with one line naming the key."""

from __future__ import annotations

from dataclasses import dataclass, field

from conf.schema import open_fraction, positive
from conf.site_policy import SitePolicy

PORT = {"ge": 1, "le": 65535}


@dataclass(frozen=True)
class CertsConfig:
    """``privfl certs``: a CA, the SuperLink's TLS certificate for ``hosts`` (its SANs),
    and per site an authentication key pair and a SecAgg identity key."""

    out: str
    sites: int = field(default=3, metadata={"ge": 1})
    hosts: tuple[str, ...] = ("localhost", "127.0.0.1")
    days: int = field(default=365, metadata={"ge": 1})
    force: bool = False


@dataclass(frozen=True)
class SuperlinkConfig:
    """``privfl deploy superlink``: where it listens, the folder ``privfl certs`` wrote,
    and the Flower connection (``$FLWR_HOME/config.toml``) ``privfl deploy run`` uses."""

    certs: str | None = None
    host: str = "0.0.0.0"
    port: int = field(default=8000, metadata=PORT)
    address: str | None = None  # how `deploy run` reaches it; null: 127.0.0.1:<port>
    database: str | None = None  # SuperLink state file; null: in memory
    insecure: bool = False


@dataclass(frozen=True)
class SiteConfig:
    """A data site's own config file (``privfl deploy supernode site=FILE``).

    Everything about the site's data, ledger, privacy budget and policy is decided here
    and reaches the ClientApp only as the SuperNode's node config. The policy's keys
    (``conf.site_policy.SitePolicy``) are written at the top level of the file. Relative
    paths are relative to the file's folder.
    """

    site: str
    superlink: str
    data_path: str
    task: str  # conf/task name or a task YAML file: the schema the data file follows
    ledger_path: str
    budget: float = field(metadata=positive())
    delta: float = field(metadata=open_fraction())
    ledger_key: str | None = None  # null: <ledger_path>.key
    root_certificates: str | None = None
    auth_key: str | None = None
    identity_key: str | None = None
    roster: str | None = None
    app_sha256: str | None = None  # null: the app the privfl installed here builds
    policy: SitePolicy = field(default_factory=SitePolicy)  # its keys sit at the top level
    insecure: bool = False
    max_retries: int = field(default=10, metadata={"ge": 0})
    runtime_port: int = field(default=9094, metadata=PORT)
