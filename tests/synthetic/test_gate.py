"""The release gate: copies and jittered near-copies of real rows are not written (exit 4,
report only); ``force=true`` writes them with the warning recorded; a normal synthesizer
passes (tests/synthetic/test_pipeline.py). Copies are injected at the sampling step."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conf.synth_schema import GateConfig
from synthetic.gate import EXIT_BLOCKED, gate_checks
from synthetic.pipeline import SynthOutcome, run_synth
from tests.synthetic.tables import SMALL_CHECKS, copying_synthesizer, make_config, mixed_table

REPORTS = {"report.json", "report.md", "report.html"}


@pytest.fixture(scope="module")
def site_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("gate") / "site.csv"
    mixed_table().to_csv(path, index=False)
    return path


def _failed(outcome: SynthOutcome) -> set[str]:
    return {check["key"] for check in outcome.report["gate"]["checks"] if not check["passed"]}


def test_exact_copies_are_blocked(site_csv: Path, tmp_path: Path, capfd) -> None:
    with copying_synthesizer():
        outcome = run_synth(make_config(site_csv, tmp_path / "out", *SMALL_CHECKS))
    assert outcome.exit_code == EXIT_BLOCKED == 4
    assert not outcome.out.exists()  # no table, no metadata
    assert {p.name for p in outcome.review.iterdir()} == REPORTS
    assert {"gate.max_exact_copies", "gate.min_new_row_synthesis",
            "gate.min_dcr_baseline_protection"} <= _failed(outcome)
    report = json.loads((outcome.review / "report.json").read_text())
    assert report["released"] is False and report["gate"]["passed"] is False
    assert report["privacy"]["exact_copies"]["count"] == 800
    assert report["outputs"] == ["out-review/report.json", "out-review/report.md",
                                 "out-review/report.html"]
    err = capfd.readouterr().err
    assert "release gate check failed: 800 synthetic row(s) equal a real row" in err
    assert "[gate.max_exact_copies]" in err
    assert "release gate FAILED: the synthetic table was NOT written" in err


def test_jittered_near_copies_are_blocked(site_csv: Path, tmp_path: Path) -> None:
    with copying_synthesizer(jitter=0.02):
        outcome = run_synth(make_config(site_csv, tmp_path / "out", *SMALL_CHECKS))
    assert outcome.report["privacy"]["exact_copies"]["count"] == 0  # no exact copy left
    assert outcome.exit_code == 4
    assert "gate.min_dcr_baseline_protection" in _failed(outcome)
    assert not (outcome.out / "synthetic.csv").exists()


def test_force_writes_blocked_output_and_records_the_warning(site_csv: Path,
                                                             tmp_path: Path) -> None:
    with copying_synthesizer():
        outcome = run_synth(make_config(site_csv, tmp_path / "out", "force=true",
                                        *SMALL_CHECKS))
    assert outcome.exit_code == 0
    assert (outcome.out / "synthetic.csv").is_file() and (outcome.out / "metadata.json").is_file()
    gate = json.loads((outcome.review / "report.json").read_text())["gate"]
    assert gate["forced"] is True and gate["passed"] is False
    assert gate["warning"].startswith("force=true: the synthetic table and metadata were "
                                      "written although the release gate failed")
    assert "force=true" in (outcome.review / "report.md").read_text()
    assert "force=true" in (outcome.review / "report.html").read_text()


def _privacy(copies: int = 0, new_rows: float | None = 1.0, baseline: float | None = 0.5,
             overfitting: float | None = 1.0, unique: int = 0) -> dict:
    return {"exact_copies": {"count": copies},
            "unique_value_copies": {"count": unique, "per_column": {"notes": unique}},
            "new_row_synthesis": {"score": new_rows},
            "dcr_baseline_protection": {"score": baseline},
            "dcr_overfitting_protection": {"score": overfitting}}


@pytest.mark.parametrize(("privacy", "failing"), [
    (_privacy(), set()),
    (_privacy(copies=1), {"gate.max_exact_copies"}),
    (_privacy(unique=1), {"gate.max_unique_value_copies"}),
    (_privacy(new_rows=0.89), {"gate.min_new_row_synthesis"}),
    (_privacy(baseline=0.029), {"gate.min_dcr_baseline_protection"}),
    (_privacy(overfitting=0.79), {"gate.min_dcr_overfitting_protection"}),
    (_privacy(baseline=None), {"gate.min_dcr_baseline_protection"}),  # not computable: fails
])
def test_gate_defaults(privacy: dict, failing: set[str]) -> None:
    checks = gate_checks(privacy, GateConfig())
    assert {check.key for check in checks if not check.passed} == failing
