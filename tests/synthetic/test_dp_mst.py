"""``synthesizer=dp_mst``: the site's ledger is checked and charged before anything is fitted
(write-ahead), the release is marked after writing; the real MST from synthetic.dp.mst."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import synthetic.dp.mst
from conf.errors import ConfigError
from privacy.errors import BudgetExceededError, DeltaTooLargeError, LedgerError
from privacy.ledger import Ledger
from synthetic.dp.domain import OTHER
from synthetic.metadata import declared_only
from synthetic.pipeline import SynthOutcome, run_synth
from tests.synthetic.tables import (
    MIXED_COLUMNS,
    SMALL_CHECKS,
    columns_override,
    make_config,
    mixed_table,
)

DP = ("synthesizer=dp_mst", "synthesizer.bins=8", "rows=800", columns_override(MIXED_COLUMNS))


@pytest.fixture
def site(tmp_path: Path) -> Path:
    mixed_table().to_csv(tmp_path / "site.csv", index=False)
    return tmp_path / "site.csv"


def _forbid_fitting(monkeypatch) -> None:
    def fit(*args, **kwargs):
        raise AssertionError("MST was fitted although the ledger refused the release")

    monkeypatch.setattr(synthetic.dp.mst, "fit_sample_mst", fit)


def _ledger(folder: Path, *overrides: str) -> list[str]:
    return [f"ledger.path={folder / 'ledger.json'}", "ledger.site=site-a", "ledger.init=true",
            *overrides]


def test_an_unaffordable_epsilon_is_refused_before_fitting(site: Path, tmp_path: Path,
                                                           monkeypatch) -> None:
    _forbid_fitting(monkeypatch)
    cfg = make_config(site, tmp_path / "out", *DP, "synthesizer.epsilon=2",
                      *_ledger(tmp_path, "ledger.budget=1.5"))
    with pytest.raises(BudgetExceededError) as info:
        run_synth(cfg)
    assert "over the site's lifetime budget ε=1.5; nothing was charged" in str(info.value)
    assert "\n" not in str(info.value)
    assert not (tmp_path / "out").exists()
    assert Ledger.load(tmp_path / "ledger.json").events == ()


@pytest.mark.parametrize(("overrides", "error", "message"), [
    (["ledger.accountant=prv"], ConfigError, "only the 'rdp' accountant composes exactly"),
    (["ledger.delta=0.01"], DeltaTooLargeError, "ledger.delta=0.01 is not below 1/(its 640"),
])
def test_ledger_settings_that_cannot_hold_mst_are_refused(site: Path, tmp_path: Path,
                                                          monkeypatch, overrides, error,
                                                          message) -> None:
    _forbid_fitting(monkeypatch)
    with pytest.raises(error, match=message.replace("(", r"\(")):
        run_synth(make_config(site, tmp_path / "out", *DP, *_ledger(tmp_path, *overrides)))
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "ledger.json").exists()


def test_a_missing_ledger_is_created_only_when_asked(site: Path, tmp_path: Path,
                                                   monkeypatch) -> None:
    _forbid_fitting(monkeypatch)
    with pytest.raises(LedgerError, match=r"no ledger at .*: create a site's ledger once"):
        run_synth(make_config(site, tmp_path / "out", *DP, "ledger.site=site-a",
                              f"ledger.path={tmp_path / 'ledger.json'}"))
    assert not (tmp_path / "ledger.json").exists() and not (tmp_path / "out").exists()


def test_a_new_ledger_needs_the_site_name(site: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"ledger\.site: missing; .* does not exist yet"):
        run_synth(make_config(site, tmp_path / "out", *DP,
                              f"ledger.path={tmp_path / 'ledger.json'}"))


def test_the_charge_is_written_before_fitting(site: Path, tmp_path: Path,
                                              monkeypatch) -> None:
    """Fault injection: MST crashes; the charge it was given stays (over-count, never
    under-count) and nothing is released or written."""
    seen: list[int] = []

    def crash(data, columns, rho, rows, **kwargs):
        seen.append(len(Ledger.load(tmp_path / "ledger.json").events))
        assert kwargs["seed"] is None  # DP noise from OS entropy, never the config seed
        raise RuntimeError("site crashed while fitting")

    monkeypatch.setattr(synthetic.dp.mst, "fit_sample_mst", crash)
    with pytest.raises(RuntimeError, match="crashed"):
        run_synth(make_config(site, tmp_path / "out", *DP, *_ledger(tmp_path)))
    assert seen == [1]
    (entry,) = Ledger.load(tmp_path / "ledger.json").entries
    assert entry.released_at is None
    assert not (tmp_path / "out").exists()


def test_the_gate_is_advisory_for_a_dp_release(site: Path, tmp_path: Path,
                                               monkeypatch) -> None:
    """Fault injection at the sampling step: "MST" returns copies of its training rows.
    The release must not depend on non-DP checks of the real rows: it is written, and the
    failed checks are reported."""

    def copies(data, columns, rho, rows, **kwargs):
        names = [spec.name for spec in columns]
        return data[names].sample(rows, replace=True, random_state=0).reset_index(drop=True)

    monkeypatch.setattr(synthetic.dp.mst, "fit_sample_mst", copies)
    outcome = run_synth(make_config(site, tmp_path / "out", *DP, *SMALL_CHECKS,
                                    *_ledger(tmp_path)))
    gate = outcome.report["gate"]
    assert outcome.exit_code == 0 and outcome.report["released"]
    assert not gate["passed"] and gate["advisory"] and not gate["forced"]
    assert "no longer be covered by ε" in gate["note"]
    assert (outcome.out / "synthetic.csv").is_file()
    assert "failed (advisory: DP release)" in (outcome.review / "report.md").read_text()
    (entry,) = Ledger.load(tmp_path / "ledger.json").entries
    assert entry.released_at is not None


@pytest.fixture(scope="module")
def released(tmp_path_factory) -> tuple[SynthOutcome, Path]:
    folder = tmp_path_factory.mktemp("dp")
    mixed_table().to_csv(folder / "site.csv", index=False)
    cfg = make_config(folder / "site.csv", folder / "out", *DP, *SMALL_CHECKS,
                      *_ledger(folder, "ledger.budget=4"))
    return run_synth(cfg), folder / "ledger.json"


def test_mst_release_is_charged_written_and_marked(released) -> None:
    outcome, ledger_path = released
    assert outcome.exit_code == 0, outcome.report["gate"]
    synthetic_table = pd.read_csv(outcome.out / "synthetic.csv")
    assert list(synthetic_table.columns) == [spec.name for spec in MIXED_COLUMNS]
    assert len(synthetic_table) == 800
    ledger = Ledger.load(ledger_path)
    (entry,) = ledger.entries
    assert entry.released_at is not None
    assert entry.event.run_id == outcome.report["dp"]["run_id"]
    assert 0.98 <= ledger.spent() <= 1.0


def test_mst_report_states_the_guarantee(released) -> None:
    outcome, ledger_path = released
    dp = outcome.report["dp"]
    assert dp["epsilon"] == 1.0 and dp["delta"] == 1e-5
    assert dp["accountant"] == "rdp" and dp["unit"] == "record"
    assert dp["bounds_and_levels"] == "from the config (columns), never from the data"
    assert dp["remaining_budget"] == pytest.approx(4 - Ledger.load(ledger_path).spent())
    assert dp["site_budget"] == 4.0 and dp["marked_released"] is True
    assert outcome.report["synthesizer"] == {"name": "dp_mst", "epsilon": 1.0, "bins": 8,
                                             "differentially_private": True}
    assert outcome.report["metadata"]["not_synthesized"] == ["record_id", "joined", "smoker"]
    assert any("WITHOUT DP noise" in s for s in outcome.report["statements"])
    markdown = (outcome.review / "report.md").read_text()
    assert "## Differential privacy" in markdown and "remaining budget" in markdown


def test_mst_metadata_comes_from_the_declarations_only(released) -> None:
    outcome, _ = released
    exported = json.loads((outcome.out / "metadata.json").read_text())
    assert exported == declared_only(MIXED_COLUMNS, OTHER)
