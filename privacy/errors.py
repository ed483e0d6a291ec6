"""Exception types of the privacy library: ledger problems and exhausted budgets."""

from conf.errors import PrivflError


class LedgerError(PrivflError):
    """A ledger file is unreadable or corrupt, or disagrees with the site's settings."""


class BudgetExceededError(PrivflError):
    """A charge would take a site's cumulative ε past its lifetime budget.

    ``spent`` is ε before the charge, ``requested`` ε after it, ``budget`` the site's
    lifetime ε; all are record-level, under the ledger's accountant and δ.
    """

    def __init__(
        self,
        *,
        site: str,
        accountant: str,
        delta: float,
        spent: float,
        requested: float,
        budget: float,
        what: str,
    ) -> None:
        self.site = site
        self.accountant = accountant
        self.delta = delta
        self.spent = spent
        self.requested = requested
        self.budget = budget
        unit = f"({accountant}, δ={delta:g}, unit=record)"
        super().__init__(
            f"site {site!r}: {what} would raise ε from {spent:.4g} to {requested:.4g} {unit}, "
            f"over the site's lifetime budget ε={budget:.4g}; nothing was charged. "
            "Raise the site's privacy budget, or lower privacy.epsilon (or plan fewer rounds)."
        )


class DeltaTooLargeError(PrivflError):
    """A site's δ is not below 1/(its record count): (ε, δ) would allow leaking a record."""


class RoundAlreadyReleasedError(PrivflError):
    """The site already sent this round's update: training it again would be a second
    release for one charge."""
