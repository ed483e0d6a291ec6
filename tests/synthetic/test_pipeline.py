"""``privfl synth`` end to end in-process, with real SDV and SDMetrics: a mixed-type table
(missing values, dates, categories, an id) and the bundled wa_churn table."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from synthetic.pipeline import SynthOutcome, run_synth
from synthetic.report import SDV_STATEMENT
from tests.synthetic.tables import (
    SMALL_CHECKS,
    churn_table,
    make_config,
    mixed_table,
)

REVIEW = {"report.json", "report.md", "report.html"}


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory) -> tuple[SynthOutcome, pd.DataFrame]:
    folder = tmp_path_factory.mktemp("mixed")
    real = mixed_table()
    real.to_csv(folder / "site.csv", index=False)
    cfg = make_config(folder / "site.csv", folder / "out", "rows=600", *SMALL_CHECKS)
    return run_synth(cfg), real


@pytest.fixture(scope="module")
def churn_run(tmp_path_factory) -> SynthOutcome:
    folder = tmp_path_factory.mktemp("churn")
    churn_table().to_parquet(folder / "churn.parquet", index=False)
    return run_synth(make_config(folder / "churn.parquet", folder / "out", *SMALL_CHECKS))


def test_mixed_table_is_released_with_every_output(mixed_run) -> None:
    outcome, real = mixed_run
    assert outcome.exit_code == 0
    assert {p.name for p in outcome.out.iterdir()} == {"synthetic.csv", "metadata.json",
                                                        "release.json"}
    assert {p.name for p in outcome.review.iterdir()} == REVIEW
    manifest = json.loads((outcome.out / "release.json").read_text())
    assert manifest["differentially_private"] is False
    assert "NOT differentially private" in manifest["files"][0]
    assert "stays with the site" in manifest["not_released"]
    synthetic = pd.read_csv(outcome.out / "synthetic.csv")
    assert len(synthetic) == 600
    assert list(synthetic.columns) == list(real.columns)
    assert synthetic["age"].isna().any() and synthetic["tier"].isna().any()
    assert pd.to_datetime(synthetic["joined"].dropna(), format="%Y-%m-%d").notna().all()
    assert not set(synthetic["record_id"]) & set(real["record_id"])  # ids are generated anew


def test_mixed_table_quality_and_diagnostic(mixed_run) -> None:
    report = mixed_run[0].report
    assert report["quality"]["score"] >= 0.85
    assert set(report["quality"]["properties"]) == {"Column Shapes", "Column Pair Trends"}
    assert report["quality"]["properties"]["Column Pair Trends"] is not None
    assert report["quality"]["diagnostic"]["properties"] == {"Data Validity": 1.0,
                                                             "Data Structure": 1.0}
    assert set(report["quality"]["column_shapes"]) >= {"age", "plan", "joined", "smoker"}


def test_report_has_privacy_numbers_gate_statements_and_timings(mixed_run) -> None:
    report = mixed_run[0].report
    privacy = report["privacy"]
    assert privacy["exact_copies"]["count"] == 0
    assert privacy["new_row_synthesis"]["score"] == 1.0
    assert 0 < privacy["dcr_baseline_protection"]["score"] <= 1
    assert 0 < privacy["dcr_overfitting_protection"]["score"] <= 1
    assert report["gate"]["passed"] and not report["gate"]["forced"]
    assert [c["key"] for c in report["gate"]["checks"]] == [
        "gate.max_exact_copies", "gate.max_unique_value_copies", "gate.min_new_row_synthesis",
        "gate.min_dcr_baseline_protection", "gate.min_dcr_overfitting_protection"]
    assert SDV_STATEMENT in report["statements"]
    assert any("not guarantees" in s for s in report["statements"])
    assert set(report["timings_s"]) >= {"read", "detect", "fit", "sample", "quality",
                                        "diagnostic", "exact_copies", "new_row_synthesis",
                                        "dcr_baseline_protection", "dcr_overfitting_protection"}
    assert report["data"] | {"seed": 0} == {
        "file_type": ".csv", "rows": 800, "columns": 9, "training_rows": 640,
        "holdout_rows": 160, "synthetic_rows": 600, "seed": 0}
    assert report["privacy"]["samples"]["subsampled"]  # 600 synthetic rows, 200 checked


def test_report_files_agree_and_html_is_self_contained(mixed_run) -> None:
    out = mixed_run[0].review
    report = json.loads((out / "report.json").read_text())
    assert report == json.loads(json.dumps(mixed_run[0].report))
    markdown = (out / "report.md").read_text()
    assert "## Release gate" in markdown and "not differentially private" in markdown
    page = (out / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>")
    for external in ("<script", "src=", "href=", "http://", "https://", "@import"):
        assert external not in page


def test_churn_gaussian_copula_quality(churn_run) -> None:
    report = churn_run.report
    assert churn_run.exit_code == 0, report["gate"]
    assert report["quality"]["score"] >= 0.85
    assert report["data"]["file_type"] == ".parquet"
    synthetic = pd.read_parquet(churn_run.out / "synthetic.parquet")
    assert len(synthetic) == 7043
    assert set(synthetic["contract"]) <= {"Month-to-month", "One year", "Two year"}


def test_churn_metadata_is_structure_only(churn_run) -> None:
    exported = json.loads((churn_run.out / "metadata.json").read_text())
    columns = exported["tables"]["table"]["columns"]
    assert columns["tenure"] == {"sdtype": "numerical"}
    assert columns["contract"] == {"sdtype": "categorical"}
    assert columns["female"] == {"sdtype": "categorical"}  # detected ordinal: order stripped
    assert columns["rownames"] == {"sdtype": "id"}
    assert exported["tables"]["table"]["primary_key"] == "rownames"


def test_a_second_run_into_the_same_out_is_refused(mixed_run, tmp_path: Path) -> None:
    from conf.errors import ConfigError

    outcome, _ = mixed_run
    data = tmp_path / "site.csv"
    mixed_table().to_csv(data, index=False)
    with pytest.raises(ConfigError, match="already exists; choose a new folder"):
        run_synth(make_config(data, outcome.out))


def test_parquet_keeps_dates_and_survives_an_empty_column(tmp_path: Path) -> None:
    table = mixed_table(rows=300)
    table["joined"] = pd.to_datetime(table["joined"])
    table["unused"] = float("nan")  # no value at all: SDMetrics' random baseline breaks on it
    table.to_parquet(tmp_path / "site.parquet", index=False)
    outcome = run_synth(make_config(tmp_path / "site.parquet", tmp_path / "out", *SMALL_CHECKS))
    assert outcome.exit_code == 0, outcome.report["gate"]
    synthetic = pd.read_parquet(outcome.out / "synthetic.parquet")
    assert pd.api.types.is_datetime64_any_dtype(synthetic["joined"])
    assert outcome.report["privacy"]["dcr_baseline_protection"]["score"] is not None


def test_reports_go_into_the_release_only_when_asked_and_then_say_not_dp(
        tmp_path: Path) -> None:
    mixed_table(rows=300).to_csv(tmp_path / "site.csv", index=False)
    outcome = run_synth(make_config(tmp_path / "site.csv", tmp_path / "share",
                                    "report_in_release=true", "review=" + str(tmp_path / "own"),
                                    *SMALL_CHECKS))
    assert outcome.exit_code == 0 and outcome.review == tmp_path / "own"
    assert {p.name for p in outcome.out.iterdir()} >= REVIEW
    assert {p.name for p in outcome.review.iterdir()} == REVIEW
    manifest = json.loads((outcome.out / "release.json").read_text())
    assert any(f.startswith("report.json, report.md, report.html: statistics of the real "
                            "rows") and "NOT differentially private" in f
               for f in manifest["files"])
    assert manifest["not_released"] is None


def test_the_review_folder_cannot_be_the_release_folder(tmp_path: Path) -> None:
    from conf.errors import ConfigError

    with pytest.raises(ConfigError, match=r"review=.*the same folder as out"):
        make_config(tmp_path / "site.csv", tmp_path / "out", f"review={tmp_path / 'out'}")


def test_markdown_report_escapes_column_names(mixed_run) -> None:
    from synthetic.report_render import to_markdown

    report = json.loads(json.dumps(mixed_run[0].report))
    report["quality"]["column_shapes"]["<script>alert(1)</script>|x"] = 0.5
    markdown = to_markdown(report)
    assert "<script" not in markdown
    assert "&lt;script&gt;alert(1)&lt;/script&gt;\\|x" in markdown
