"""synthetic.dp.accounting: ρ from (ε, δ), the ledger event, composition with DP-SGD."""

import numpy as np
import pytest
from opacus.accountants import RDPAccountant
from opacus.accountants.analysis.rdp import compute_rdp, get_privacy_spent

from conf.errors import ConfigError
from privacy.accountants import CALIBRATION_TOLERANCE, epsilon_of
from privacy.events import DpSgdEvent, GaussianEvent
from synthetic.dp.accounting import (
    MST_LABEL,
    check_accountant_supports_mst,
    mst_event,
    mst_rho,
)

DELTA = 1e-5
DP_SGD = DpSgdEvent(run_id="r", round=1, noise_multiplier=1.1, sample_rate=0.02, steps=500)


@pytest.mark.parametrize("epsilon", [0.5, 1.0, 3.0, 10.0])
def test_event_spends_the_target_epsilon(epsilon: float) -> None:
    event = mst_event("r", epsilon, DELTA, accountant="rdp")
    spent = epsilon_of([event], DELTA, "rdp")
    assert epsilon - CALIBRATION_TOLERANCE <= spent <= epsilon
    assert isinstance(event, GaussianEvent) and event.label == MST_LABEL
    assert event.sample_rate == 1.0 and event.round == 0
    assert mst_rho(epsilon, DELTA) == pytest.approx(1 / (2 * event.noise_multiplier**2))


def test_rho_grows_with_epsilon_and_delta() -> None:
    assert mst_rho(1.0, DELTA) < mst_rho(2.0, DELTA)
    assert mst_rho(1.0, 1e-7) < mst_rho(1.0, DELTA)


def test_composition_with_dp_sgd_is_the_sum_of_rdp_curves() -> None:
    """ρ-zCDP is the RDP curve ρα: added to DP-SGD's curve and converted once."""
    rho = mst_rho(1.0, DELTA)
    orders = RDPAccountant.DEFAULT_ALPHAS
    dp_sgd = compute_rdp(q=0.02, noise_multiplier=1.1, steps=500, orders=orders)
    expected, _ = get_privacy_spent(
        orders=orders, rdp=dp_sgd + rho * np.asarray(orders), delta=DELTA
    )
    event = mst_event("r", 1.0, DELTA, round=2, accountant="rdp")
    assert epsilon_of([DP_SGD, event], DELTA, "rdp") == pytest.approx(expected, rel=1e-9)

    accountant = RDPAccountant()
    accountant.history = [(1.1, 0.02, 500), (event.noise_multiplier, 1.0, 1)]
    assert accountant.get_epsilon(DELTA) == pytest.approx(expected, rel=1e-9)
    assert expected > epsilon_of([DP_SGD], DELTA, "rdp")


def test_prv_accountant_is_refused() -> None:
    check_accountant_supports_mst("rdp")
    with pytest.raises(ConfigError, match="'prv'"):
        check_accountant_supports_mst("prv")
    with pytest.raises(ConfigError, match="only the 'rdp' accountant"):
        mst_event("r", 1.0, DELTA, accountant="prv")


def test_unreachable_epsilon_names_the_key() -> None:
    with pytest.raises(ConfigError, match=r"synthesizer\.epsilon"):
        mst_rho(0.0, DELTA)
