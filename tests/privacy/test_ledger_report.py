"""privacy.ledger_report: the printed ledger and its machine-readable summary."""

import json
from pathlib import Path

import pytest

from privacy.accountants import epsilon_of
from privacy.events import DpSgdEvent, GaussianEvent
from privacy.ledger import Ledger
from privacy.ledger_report import format_ledger, ledger_summary, run_epsilon_by_round

UNIT = "(rdp, δ=1e-05, unit=record)"
RUN_A = [DpSgdEvent("run-a", i, 1.2, 0.1, 10) for i in range(1, 4)]
RELEASE = GaussianEvent("run-a", 0, 5.0, "row count")
RUN_B = [DpSgdEvent("run-b", 1, 2.0, 0.05, 20), DpSgdEvent("run-b", 2, 2.5, 0.05, 20)]


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Ledger:
    path = tmp_path_factory.mktemp("report") / "ledger.json"
    opened = Ledger.create(path, site="hospital-a", delta=1e-5, accountant="rdp", budget=8.0)
    for event in [*RUN_A, RELEASE, *RUN_B]:
        opened.charge(event)
        if event is not RUN_B[-1]:
            opened.mark_released(event)
    return opened


def test_summary_holds_the_facts(ledger: Ledger) -> None:
    summary = ledger_summary(ledger)
    assert json.loads(json.dumps(summary)) == summary
    assert {k: summary[k] for k in ("site", "unit", "delta", "accountant", "budget")} == {
        "site": "hospital-a",
        "unit": "record",
        "delta": 1e-5,
        "accountant": "rdp",
        "budget": 8.0,
    }
    assert summary["path"] == str(ledger.path)
    assert summary["spent"] == ledger.spent()
    assert summary["remaining"] == 8.0 - ledger.spent()
    assert summary["charges"] == 6
    run_a, run_b = summary["runs"]
    assert run_a["run_id"] == "run-a"
    assert run_a["rounds"] == [0, 1, 2, 3]
    assert run_a["mechanisms"] == ["dp_sgd", "gaussian"]
    assert run_a["noise_multipliers"] == [1.2, 5.0]
    assert run_a["sample_rates"] == [0.1, 1.0]
    assert run_a["steps"] == 31
    assert run_a["epsilon"] == epsilon_of([*RUN_A, RELEASE], 1e-5, "rdp")
    assert run_a["first_charged_at"] == ledger.entries[0].charged_at
    assert run_b["noise_multipliers"] == [2.0, 2.5]
    assert run_b["steps"] == 40
    assert run_b["epsilon"] == epsilon_of(RUN_B, 1e-5, "rdp")


def test_report_names_accountant_delta_and_unit_for_every_epsilon(ledger: Ledger) -> None:
    text = format_ledger(ledger)
    assert "site 'hospital-a'" in text
    assert str(ledger.path) in text
    assert f"ε spent          {ledger.spent():.4g} {UNIT}" in text
    assert f"ε remaining      {8.0 - ledger.spent():.4g} {UNIT}" in text
    assert f"lifetime budget  ε 8 {UNIT}" in text
    for line in text.splitlines():
        if "ε" in line:
            assert UNIT in line, line


def test_report_has_one_history_row_per_run(ledger: Ledger) -> None:
    lines = format_ledger(ledger).splitlines()
    header = next(line for line in lines if line.startswith("run id"))
    assert header.split()[:7] == ["run", "id", "rounds", "charged", "mechanism", "σ", "q"]
    row_a = next(line for line in lines if line.startswith("run-a")).split()
    a_eps = f"{ledger.run_epsilon('run-a'):.4g}"
    assert row_a == ["run-a", "3", "dp_sgd,", "gaussian", "1.2,", "5", "0.1,", "1", "31", a_eps]
    row_b = next(line for line in lines if line.startswith("run-b")).split()
    b_eps = f"{ledger.run_epsilon('run-b'):.4g}"
    assert row_b == ["run-b", "2", "dp_sgd", "2,", "2.5", "0.05", "40", b_eps]
    assert "history: 6 charge(s) in 2 run(s)" in lines


def test_empty_ledger_report(tmp_path: Path) -> None:
    ledger = Ledger.create(
        tmp_path / "l.json", site="bank-b", delta=1e-6, accountant="prv", budget=2.0
    )
    text = format_ledger(ledger)
    assert "ε spent          0 (prv, δ=1e-06, unit=record)" in text
    assert "history: no charges yet" in text
    assert ledger_summary(ledger)["runs"] == []


def test_run_epsilon_by_round_composes_the_run_up_to_each_round(ledger: Ledger) -> None:
    by_round = run_epsilon_by_round(ledger, "run-a")
    assert list(by_round) == [0, 1, 2, 3]  # the round-0 release counts from the start
    assert by_round[0] == epsilon_of([RELEASE], 1e-5, "rdp")
    assert by_round[2] == epsilon_of([RELEASE, *RUN_A[:2]], 1e-5, "rdp")
    assert by_round[3] == ledger.run_epsilon("run-a")
    assert run_epsilon_by_round(ledger, "run-b")[2] == ledger.run_epsilon("run-b")
    assert run_epsilon_by_round(ledger, "no-such-run") == {}


def test_unreleased_charges_are_listed(ledger: Ledger) -> None:
    summary = ledger_summary(ledger)
    assert [(u["run_id"], u["round"], u["mechanism"]) for u in summary["unreleased"]] == [
        ("run-b", 2, "dp_sgd")]
    text = format_ledger(ledger)
    assert "unreleased charges: 1 (charged, but the result never left the site" in text
    assert "  run run-b round 2 dp_sgd, charged " in text
    assert "chain and seal verified with" in text
