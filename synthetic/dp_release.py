"""The site's ledger around a DP synthetic release (``dp_mst``).

Before anything is fitted: the accountant must support MST, δ must be below 1/rows, and
the site's remaining budget must cover ε (``check_affordable``). Then the release is
charged (write-ahead: a crash after this over-counts, never under-counts), fitted,
written, and marked released just before the output folder appears.
"""

from __future__ import annotations

import contextlib
import secrets
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from conf.errors import ConfigError
from conf.synth_schema import SynthConfig
from privacy.events import PrivacyEvent
from privacy.ledger import Ledger
from privacy.release import Release, check_delta


@dataclass
class DpRelease:
    """A planned DP release: the ledger it is charged to and its event."""

    ledger: Ledger
    event: PrivacyEvent
    epsilon: float
    delta: float
    rho: float
    spent_before: float

    @classmethod
    def plan(cls, cfg: SynthConfig, train_rows: int) -> DpRelease:
        """Open (or, with ``ledger.init``, create) the ledger and check everything a charge
        needs; writes nothing but a new, empty ledger. BudgetExceededError if ε is not
        affordable."""
        with _accountant_quiet():
            return cls._plan(cfg, train_rows)

    @classmethod
    def _plan(cls, cfg: SynthConfig, train_rows: int) -> DpRelease:
        from synthetic.dp.accounting import check_accountant_supports_mst, mst_event, mst_rho

        settings = cfg.ledger
        check_accountant_supports_mst(settings.accountant)
        site = settings.site or _site_of(Path(str(settings.path)), settings.key)
        check_delta(site, settings.delta, train_rows, "ledger.delta")
        ledger = Ledger.open(str(settings.path), key_path=settings.key, site=site,
                             delta=settings.delta, accountant=settings.accountant,
                             budget=settings.budget, create=settings.init)
        epsilon = cfg.synthesizer.epsilon
        run_id = f"synth-{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"
        event = mst_event(run_id, epsilon, settings.delta, accountant=ledger.accountant)
        ledger.check_affordable([event])
        return cls(ledger, event, epsilon, settings.delta,
                   mst_rho(epsilon, settings.delta), ledger.spent())

    def charge(self) -> Release:
        """Write the charge before fitting (write-ahead); mark the returned release
        released just before the table leaves the site."""
        with _accountant_quiet():
            return Release.charge(
                self.ledger, self.event,
                already=f"release {self.event.run_id} was already published")

    def summary(self, columns: list[str], released: bool) -> dict[str, Any]:
        """The report's ``dp`` section."""
        with _accountant_quiet():
            spent, remaining = self.ledger.spent(), self.ledger.remaining()
        return {
            "mechanism": "MST (Private-PGM)",
            "epsilon": self.epsilon,
            "delta": self.delta,
            "accountant": self.ledger.accountant,
            "unit": "record",
            "rho_zcdp": self.rho,
            "run_id": self.event.run_id,
            "site": self.ledger.site,
            "bounds_and_levels": "from the config (columns), never from the data",
            "synthesized_columns": columns,
            "site_budget": self.ledger.budget,
            "spent_before": self.spent_before,
            "spent_after": spent,
            "remaining_budget": remaining,
            "charged": True,
            "marked_released": released,
        }


@contextlib.contextmanager
def _accountant_quiet() -> Iterator[None]:
    """Opacus' RDP accountant warns that one Gaussian step at sampling rate 1 has its
    optimal order at the largest α it tries; the ε it returns is still an upper bound."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Optimal order is the largest alpha")
        yield


def _site_of(path: Path, key_path: str | None) -> str:
    if not path.exists():
        raise ConfigError(f"ledger.site: missing; {path} does not exist yet, so name the site "
                          "it is created for: ledger.site=NAME")
    return Ledger.load(path, key_path).site
