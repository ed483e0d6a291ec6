"""The one write-ahead release path: every DP release of a site goes through here.

A release is charged to the site's ledger before the mechanism runs (a crash after the
charge over-counts, never under-counts), refused when the same event was already
released (a second release for one charge), checked against the site's per-run ε
ceiling and lifetime budget before anything is written, and marked released just before
its result leaves the site. DP-SGD rounds, federated DP synthesis and ``privfl synth``
all use :class:`Release`; :func:`check_delta` is the one check of δ against the rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from conf.errors import PrivflError
from privacy.errors import DeltaTooLargeError, RoundAlreadyReleasedError
from privacy.events import PrivacyEvent
from privacy.ledger import Ledger

CEILING_TOLERANCE = 1e-9  # relative: calibration meets a target ε to float precision


class RunCeilingExceededError(PrivflError):
    """The run's releases together would pass the site's per-run ε ceiling."""


def check_delta(site: str, delta: float, rows: int, setting: str) -> None:
    """DeltaTooLargeError unless δ is below 1/rows: (ε, δ) with a larger δ allows
    releasing a whole record outright. ``setting`` names the key that sets δ."""
    if delta >= 1 / rows:
        raise DeltaTooLargeError(
            f"site {site}: {setting}={delta:g} is not below 1/(its {rows} training records) "
            f"= {1 / rows:.3g}; set a smaller {setting} for this site")


@dataclass(frozen=True)
class Release:
    """A charged release, to be marked released when its result leaves the site."""

    ledger: Ledger
    event: PrivacyEvent

    @classmethod
    def charge(cls, ledger: Ledger, event: PrivacyEvent, *, already: str,
               planned: Sequence[PrivacyEvent] = (),
               max_run_epsilon: float | None = None) -> Release:
        """Check, then write the charge of ``event`` (a retry of an unreleased event is
        not charged twice). ``planned`` are the run's other events still to come (they
        must fit too); ``already`` is the refusal when ``event`` was already released."""
        events = [event, *(e for e in planned if e.key() != event.key())]
        if max_run_epsilon is not None:
            run_epsilon = ledger.run_epsilon_with(event.run_id, events)
            if run_epsilon > max_run_epsilon * (1 + CEILING_TOLERANCE):
                raise RunCeilingExceededError(
                    f"site {ledger.site}: this run's releases would reach ε={run_epsilon:.4g} "
                    f"({ledger.accountant}, δ={ledger.delta:g}, unit=record), over the site's "
                    f"max-epsilon-per-run={max_run_epsilon:g}; nothing was charged")
        ledger.check_affordable(events)
        if not ledger.charge(event) and ledger.is_released(event):
            raise RoundAlreadyReleasedError(already)
        return cls(ledger, event)

    def released(self) -> None:
        """Record that the result is about to leave the site (after this, a retry of the
        same event is refused)."""
        self.ledger.mark_released(self.event)
