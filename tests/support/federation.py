"""Run the real ServerApp against the real ClientApp over an in-process grid."""

from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass
from pathlib import Path

from flwr.app import ConfigRecord, Context, Message, RecordDict

from client.app import app as client_app
from conf import protocol
from conf.run_config import to_run_config
from conf.schema import ExperimentConfig
from conf.site import SiteSettings
from conf.site_policy import to_node_config
from privacy.ledger import Ledger
from privacy.secagg.roster import write_identities
from server.app import app as server_app
from simulations.site_data import write_site_data
from simulations.site_policy import simulated_site_policy
from tests.support.inprocess_grid import InProcessGrid

FIRST_NODE = 1000


@dataclass
class Federation:
    """A prepared federation: its config, grid and where things are."""

    cfg: ExperimentConfig
    grid: InProcessGrid
    run_dir: Path
    ledger_dir: Path

    def run(self) -> None:
        """Run the ServerApp to the end."""
        context = Context(run_id=self.grid.run.run_id, node_id=0, node_config={},
                          state=RecordDict(), run_config=to_run_config(self.cfg))
        server_app(self.grid, context)

    def ledger(self, site: int) -> Path:
        return self.ledger_dir / f"site-{site}.json"

    def send(self, site: int, message_type: str, content: RecordDict | None = None
             ) -> Message:
        """Hand one message from the coordinator straight to site ``site``'s ClientApp."""
        msg = Message(content or RecordDict({protocol.CONFIG: ConfigRecord({})}),
                      dst_node_id=node_id(site), message_type=message_type)
        msg.metadata.__dict__["_message_id"] = secrets.token_hex(8)
        return client_app(msg, self.grid.contexts[node_id(site)])

    def preflight(self, site: int) -> ConfigRecord:
        """Send site ``site`` this run's preflight; its site record."""
        return self.send(site, f"query.{protocol.PREFLIGHT}").content[protocol.SITE]


def node_id(site: int) -> int:
    """The node id the in-process grid gives site ``site``."""
    return FIRST_NODE + site


def build_federation(cfg: ExperimentConfig, root: Path, *, budgets: dict[int, float] | None = None,
                     faults: dict[int, tuple[str, str]] | None = None,
                     ledger_dir: Path | None = None, run_id: int | None = None,
                     node_overrides: dict[int, dict] | None = None) -> Federation:
    """Write the sites' data and node configs; return a federation ready to run.
    ``node_overrides`` replaces entries of chosen sites' node configs."""
    data = write_site_data(cfg, root / "data")
    run_dir = root / "run"
    cfg = dataclasses.replace(cfg, server_test_data=str(data.server_test), output_dir=str(run_dir))
    ledger_dir = ledger_dir or root / "ledgers"
    budgets = budgets or {}
    identities, roster = write_identities([f"site-{i}" for i in range(cfg.sites)],
                                          root / "identities")
    node_configs = {
        node_id(i): {
            "site": f"site-{i}",
            "data-path": str(path),
            "ledger-path": str(ledger_dir / f"site-{i}.json"),
            "budget": budgets.get(i, cfg.privacy.site_budget),
            "delta": cfg.privacy.delta,
            **to_node_config(simulated_site_policy(cfg)),
            "identity-key": str(identities[f"site-{i}"]),
            "roster": str(roster),
            **(node_overrides or {}).get(i, {}),
        }
        for i, path in enumerate(data.site_files)
    }
    for node in node_configs.values():  # each site's ledger, created once as operators do
        settings = SiteSettings.from_node_config(node)
        Ledger.open(settings.ledger_path, key_path=settings.ledger_key_path, site=settings.site,
                    delta=settings.delta, accountant=cfg.privacy.accountant,
                    budget=settings.budget, create=True)
    grid = InProcessGrid(client_app, run_id or secrets.randbits(62), to_run_config(cfg),
                         node_configs, faults)
    return Federation(cfg, grid, run_dir, ledger_dir)
