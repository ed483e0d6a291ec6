"""A site's ledger created the way an operator does it once (``privfl ledger init``)."""

from conf.site import SiteSettings
from privacy.ledger import Ledger


def create_ledger(settings: SiteSettings, accountant: str = "rdp") -> Ledger:
    """The new, empty ledger ``settings`` point at."""
    return Ledger.create(settings.ledger_path, key_path=settings.ledger_key_path,
                         site=settings.site, delta=settings.delta, accountant=accountant,
                         budget=settings.budget)
