"""privacy.errors: exception types and what their messages name."""

from conf.errors import PrivflError
from privacy.errors import BudgetExceededError, LedgerError


def test_error_types_are_privfl_errors() -> None:
    assert issubclass(LedgerError, PrivflError)
    assert issubclass(BudgetExceededError, PrivflError)


def test_budget_exceeded_carries_values_and_says_what_to_change() -> None:
    err = BudgetExceededError(
        site="hospital-a",
        accountant="prv",
        delta=1e-5,
        spent=2.5,
        requested=3.25,
        budget=3.0,
        what="charging dp_sgd for run 'r1', round 4",
    )
    assert (err.spent, err.requested, err.budget) == (2.5, 3.25, 3.0)
    assert (err.site, err.accountant, err.delta) == ("hospital-a", "prv", 1e-5)
    message = str(err)
    assert "'hospital-a'" in message
    assert "round 4" in message
    assert "from 2.5 to 3.25 (prv, δ=1e-05, unit=record)" in message
    assert "budget ε=3" in message
    assert "nothing was charged" in message
    assert "Raise the site's privacy budget" in message
    assert "privacy.epsilon" in message
