"""ε of a list of privacy events, and noise calibration, with Opacus' accountants.

Events are turned into one accountant history in which entries with the same
(noise_multiplier, sample_rate) are merged (steps added), in order of first appearance.
Composition makes this exact in theory, and it makes the numbers agree in practice:
ten 7-step rounds at σ get exactly the ε that calibrating σ for 70 steps promised
(split histories differ in the last bits under RDP and by up to the discretisation
error under PRV), and the result does not depend on how rounds were split.
"""

import contextlib
import math
import warnings
from collections.abc import Iterable, Iterator, Sequence

from opacus.accountants import create_accountant
from opacus.accountants.utils import get_noise_multiplier

from conf.errors import ConfigError
from privacy.events import HistoryEntry, PrivacyEvent

ACCOUNTANTS = ("rdp", "prv")
CALIBRATION_TOLERANCE = 0.01
MAX_NOISE_MULTIPLIER = 1e4
"""Calibration after earlier releases gives up above this σ (DP-SGD would learn nothing)."""


def check_accountant(accountant: str) -> None:
    """ConfigError unless ``accountant`` is one of ``ACCOUNTANTS``."""
    if accountant not in ACCOUNTANTS:
        raise ConfigError(
            f"unknown privacy accountant {accountant!r}; allowed: {', '.join(ACCOUNTANTS)}"
        )


def check_delta(delta: float) -> None:
    """ConfigError unless 0 < δ < 1."""
    if not isinstance(delta, int | float) or not 0 < delta < 1:
        raise ConfigError(f"δ must be in (0, 1), got {delta!r}; typically below 1/rows")


def accountant_history(events: Iterable[PrivacyEvent]) -> list[HistoryEntry]:
    """The merged Opacus history of ``events`` (see the module docstring)."""
    return _merged(entry for event in events for entry in event.accountant_history())


def epsilon_of(events: Iterable[PrivacyEvent], delta: float, accountant: str) -> float:
    """ε at ``delta`` of all ``events`` composed, by a fresh Opacus accountant (0 if none)."""
    check_accountant(accountant)
    check_delta(delta)
    return _epsilon_of_history(accountant_history(events), delta, accountant)


def _epsilon_of_history(history: list[HistoryEntry], delta: float, accountant: str) -> float:
    if not history:
        return 0.0
    acc = create_accountant(mechanism=accountant)
    acc.history = history
    return float(acc.get_epsilon(delta=delta))


def _merged(entries: Iterable[HistoryEntry]) -> list[HistoryEntry]:
    """Entries with equal (σ, q) merged, as :func:`accountant_history` merges events."""
    steps: dict[tuple[float, float], int] = {}
    for sigma, q, n in entries:
        steps[(sigma, q)] = steps.get((sigma, q), 0) + n
    return [(sigma, q, n) for (sigma, q), n in steps.items()]


def calibrate_noise_multiplier(
    target_epsilon: float, delta: float, sample_rate: float, steps: int, accountant: str,
    key: str = "privacy.epsilon",
) -> float:
    """σ such that ``steps`` steps at ``sample_rate`` alone spend at most ``target_epsilon``.

    Opacus' ``get_noise_multiplier`` doubles σ until ε(σ) <= target, then bisects while
    ``target - ε(σ_high) > epsilon_tolerance`` and returns σ_high, whose ε is at most the
    target (never above it) and at most ``CALIBRATION_TOLERANCE`` below it. The ε it
    evaluates is the same call ``epsilon_of`` makes for ``[(σ, q, steps)]``, so the run,
    charged round by round, spends exactly that ε (histories are merged).
    """
    _check_calibration_inputs(target_epsilon, delta, sample_rate, steps, accountant, key)
    try:
        return float(
            get_noise_multiplier(
                target_epsilon=target_epsilon,
                target_delta=delta,
                sample_rate=sample_rate,
                steps=steps,
                accountant=accountant,
                epsilon_tolerance=CALIBRATION_TOLERANCE,
            )
        )
    except ValueError as exc:
        raise ConfigError(
            f"{key}={target_epsilon} cannot be reached with {steps} steps at sampling "
            f"rate {sample_rate:.4g} (δ={delta:g}, {accountant}): {exc} Raise {key}, "
            "or plan fewer rounds/local epochs or a smaller batch size."
        ) from exc


def _check_calibration_inputs(target_epsilon: float, delta: float, sample_rate: float,
                              steps: int, accountant: str, key: str) -> None:
    """ConfigError (one line) for an argument no calibration can take."""
    check_accountant(accountant)
    check_delta(delta)
    if not isinstance(target_epsilon, int | float) or not 0 < target_epsilon < math.inf:
        raise ConfigError(f"{key} must be a positive number, got {target_epsilon!r}")
    if not 0 < sample_rate <= 1:
        raise ConfigError(f"the sampling rate must be in (0, 1], got {sample_rate!r}")
    if steps < 1:
        raise ConfigError(f"the planned number of steps must be >= 1, got {steps!r}")


def calibrate_noise_multiplier_after(
    target_epsilon: float, delta: float, sample_rate: float, steps: int, accountant: str,
    prior: Sequence[HistoryEntry], key: str = "privacy.epsilon",
) -> float:
    """σ such that the ``prior`` history entries (earlier releases of the same run, e.g. a
    DP synthetic table) composed with ``steps`` steps at ``sample_rate`` spend at most
    ``target_epsilon``, by the same accountant and merged history that ``epsilon_of``
    uses for the ledger's events. Without ``prior`` this is
    :func:`calibrate_noise_multiplier`.

    Bisection on σ (ε falls as σ grows): the result's ε is never above the target and at
    most ``CALIBRATION_TOLERANCE`` below it. ConfigError if the prior releases alone
    spend the target, or if σ would have to exceed ``MAX_NOISE_MULTIPLIER``.
    """
    if not prior:
        return calibrate_noise_multiplier(target_epsilon, delta, sample_rate, steps,
                                          accountant, key)
    _check_calibration_inputs(target_epsilon, delta, sample_rate, steps, accountant, key)
    prior = list(prior)

    def epsilon(sigma: float) -> float:
        return _epsilon_of_history(_merged([*prior, (sigma, sample_rate, steps)]), delta,
                                   accountant)

    with quiet_largest_alpha():
        floor = _epsilon_of_history(_merged(prior), delta, accountant)
        if floor >= target_epsilon:
            raise ConfigError(
                f"{key}={target_epsilon}: the run's earlier releases alone spend ε={floor:.4g} "
                f"(δ={delta:g}, {accountant}), leaving nothing for DP-SGD; raise {key} or "
                "lower the earlier releases' ε (synthetic.epsilon)")
        low, high = 0.0, 1.0
        while epsilon(high) > target_epsilon:
            low, high = high, 2 * high
            if high > MAX_NOISE_MULTIPLIER:
                raise ConfigError(
                    f"{key}={target_epsilon} cannot be reached with {steps} steps at sampling "
                    f"rate {sample_rate:.4g} after the run's earlier releases (ε={floor:.4g}, "
                    f"δ={delta:g}, {accountant}): DP-SGD would need σ > "
                    f"{MAX_NOISE_MULTIPLIER:g}. Raise {key}, lower synthetic.epsilon, or plan "
                    "fewer rounds/local epochs or a smaller batch size.")
        for _ in range(200):
            if target_epsilon - epsilon(high) <= CALIBRATION_TOLERANCE:
                break
            middle = (low + high) / 2
            if epsilon(middle) > target_epsilon:
                low = middle
            else:
                high = middle
    return high


@contextlib.contextmanager
def quiet_largest_alpha() -> Iterator[None]:
    """Opacus' RDP accountant warns when its optimal order is the largest α it tries (one
    Gaussian step at q=1, e.g. a DP synthesis); the ε it returns is still an upper bound."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Optimal order is the largest alpha")
        yield
