"""Accounting of an MST release in a site's ledger, beside DP-SGD.

The whole MST release (Gaussian measurements and exponential-mechanism selections) is
ρ-zCDP (``synthetic.dp.mst``), i.e. its Rényi DP curve is ε(α) = ρα for every α > 1.
That is exactly the RDP curve of one Gaussian mechanism with noise multiplier
σ = 1/√(2ρ), sampling rate 1, one step. The ledger therefore records the release as a
``GaussianEvent`` with that σ: under the ``rdp`` accountant its curve is added to
DP-SGD's RDP curves, which is exact composition, and converted to (ε, δ) once, by
Opacus' RDP conversion.

The ``prv`` accountant composes privacy loss distributions, and the PLD of a Gaussian is
not a valid bound for the exponential-mechanism selections that the zCDP bound covers:
MST is refused on a ledger that uses ``prv`` (``check_accountant_supports_mst``).
"""

from __future__ import annotations

from conf.errors import ConfigError
from privacy.accountants import calibrate_noise_multiplier
from privacy.events import GaussianEvent

MST_LABEL = "dp_mst synthesis"
EPSILON_KEY = "synthesizer.epsilon"


def check_accountant_supports_mst(accountant: str) -> None:
    """ConfigError unless ``accountant`` can account an MST release (only ``rdp`` can)."""
    if accountant != "rdp":
        raise ConfigError(
            f"the MST synthesizer is accounted as zCDP, which only the 'rdp' accountant "
            f"composes exactly; this ledger uses {accountant!r}. Use a site whose ledger "
            "was created with accountant 'rdp'"
        )


def mst_noise_multiplier(epsilon: float, delta: float) -> float:
    """σ of the one Gaussian step whose RDP curve spends ``epsilon`` at ``delta`` (rdp)."""
    return calibrate_noise_multiplier(epsilon, delta, 1.0, 1, "rdp", key=EPSILON_KEY)


def mst_rho(epsilon: float, delta: float) -> float:
    """The largest ρ (to calibration tolerance) whose ρ-zCDP release spends at most
    ``epsilon`` at ``delta`` under Opacus' RDP conversion: ρ = 1/(2σ²)."""
    return 1 / (2 * mst_noise_multiplier(epsilon, delta) ** 2)


def mst_event(
    run_id: str, epsilon: float, delta: float, round: int = 0, *, accountant: str
) -> GaussianEvent:
    """The ledger charge for an MST release run with ``mst_rho(epsilon, delta)``.

    ``accountant`` is the ledger's (``Ledger.accountant``); anything but ``rdp`` is refused.
    """
    check_accountant_supports_mst(accountant)
    return GaussianEvent(
        run_id=run_id,
        round=round,
        noise_multiplier=mst_noise_multiplier(epsilon, delta),
        label=MST_LABEL,
    )
