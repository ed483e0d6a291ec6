"""server.report: run and sweep reports built from small run directories (no Ray)."""

from __future__ import annotations

import json
import logging
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from privacy.ledger import Ledger
from privacy.ledger_report import run_epsilon_by_round
from privfl.cli import main as cli
from server.report.audit import AUDIT_KEYS
from server.report.record import load_run
from server.report.site_epsilon import LEDGERS, METRICS, REPORTED
from server.report.write import write_report, write_report_safely
from tests.support.report_html import NUMBER, numbers_in, parse_report
from tests.support.run_dirs import RUN_ID, write_run_dir, write_sweep_dir


@pytest.fixture(scope="module")
def dp_template(tmp_path_factory) -> Path:
    """A DP run of 4 sites: site-3 refused in preflight, site-0 failed round 2."""
    run = write_run_dir(tmp_path_factory.mktemp("report") / "dp", refusing_site=True,
                        failing_site=True, sites=4)
    write_report(run)
    return run


@pytest.fixture
def dp_run(dp_template: Path, tmp_path: Path) -> Path:
    """A copy of the DP run that a test may change (its site settings point to the
    template's ledgers, which no test changes)."""
    return Path(shutil.copytree(dp_template, tmp_path / "dp"))


@pytest.mark.parametrize("kind", ["dp", "site_level", "none"])
def test_every_number_in_the_privacy_statement_equals_privacy_json(tmp_path: Path,
                                                                   kind: str) -> None:
    run = write_run_dir(tmp_path / kind, private=kind != "none", site_level=kind == "site_level",
                        refusing_site=True)
    write_report(run)
    privacy = json.loads((run / "privacy.json").read_text())
    allowed = numbers_in(privacy)
    html_text = " ".join(parse_report((run / "report.html").read_text()).text)
    md = (run / "report.md").read_text()
    md_text = md[md.index("## Privacy statement"):md.index("## Privacy audit")]
    for text in (html_text, md_text):
        numbers = [float(n) for n in NUMBER.findall(text)]
        assert set(numbers) <= allowed, set(numbers) - allowed
        for site in privacy["sites"].values():  # each site's ε printed exactly
            if "run_epsilon" in site:
                assert json.dumps(site["run_epsilon"]) in text
                assert json.dumps(site["lifetime_epsilon"]) in text
        if kind == "site_level":
            assert json.dumps(privacy["site_level"]["epsilon"]) in text
            assert "Unit: site" in text
    if kind == "none":
        assert "NOT PRIVATE" in html_text
    else:
        assert "Accountant: rdp" in html_text and "Unit: record" in html_text
        assert "δ" in html_text and "DP-SGD" in html_text


def test_dp_report_has_accuracy_and_epsilon_charts(dp_run: Path) -> None:
    charts = parse_report((dp_run / "report.html").read_text()).charts
    assert charts["plot-accuracy"] == "Accuracy per round"
    assert charts["plot-loss"] == "Loss per round"
    assert charts["plot-epsilon"].startswith("Record-level ε per site per round")
    assert "rdp, δ=1e-05, unit=record" in charts["plot-epsilon"]
    md = (dp_run / "report.md").read_text()
    for name in ("accuracy", "loss", "epsilon"):
        assert f"](report-plots/{name}.svg)" in md
        root = ET.parse(dp_run / "report-plots" / f"{name}.svg").getroot()
        assert root.tag == "{http://www.w3.org/2000/svg}svg"


def test_epsilon_per_site_per_round_comes_from_the_ledgers(dp_run: Path) -> None:
    run = load_run(dp_run)
    assert run.epsilon.source == LEDGERS
    assert set(run.epsilon.by_site) == {"site-0", "site-1", "site-2"}  # site-3 refused
    ledger = Ledger.load(dp_run / "ledgers" / "site-0.json")
    assert run.epsilon.by_site["site-0"] == run_epsilon_by_round(ledger, RUN_ID)
    assert list(run.epsilon.by_site["site-0"]) == [1, 2, 3]  # the failed round 2 was charged
    privacy = json.loads((dp_run / "privacy.json").read_text())
    assert run.epsilon.by_site["site-0"][3] == privacy["sites"]["site-0"]["run_epsilon"]
    first, second, third = run.epsilon.by_site["site-0"].values()
    assert 0 < first < second < third


def test_without_ledgers_the_highest_site_comes_from_metrics(dp_run: Path) -> None:
    for settings in (dp_run / "sites").iterdir():  # deployment: no site settings here
        settings.unlink()
    run = load_run(dp_run)
    assert run.epsilon.source == METRICS
    rows = [json.loads(line) for line in (dp_run / "metrics.jsonl").read_text().splitlines()]
    assert run.epsilon.by_site == {"highest site": {r["round"]: r["max_run_epsilon"]
                                                    for r in rows}}


def test_without_ledgers_each_sites_reported_epsilon_comes_from_metrics(dp_run: Path) -> None:
    """Rows with ``site_run_epsilon`` (each site's ε as it last reported it) are preferred
    to the highest site's ε when the ledgers are not here."""
    for settings in (dp_run / "sites").iterdir():
        settings.unlink()
    rows = [json.loads(line) for line in (dp_run / "metrics.jsonl").read_text().splitlines()]
    for row in rows:
        row["site_run_epsilon"] = {"site-0": 0.5 * row["round"], "site-1": row["round"]}
    (dp_run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    run = load_run(dp_run)
    assert run.epsilon.source == REPORTED
    assert run.epsilon.by_site == {"site-0": {1: 0.5, 2: 1.0, 3: 1.5},
                                   "site-1": {1: 1, 2: 2, 3: 3}}


def test_many_sites_show_lowest_median_and_highest(tmp_path: Path) -> None:
    run = write_run_dir(tmp_path / "big", sites=10, rounds=2)
    html = write_report(run).read_text()
    chart = html[html.index('id="plot-epsilon"'):]
    chart = chart[:chart.index("</svg>")]
    labels = re.findall(r'class="series" data-label="([^"]+)"', chart)
    assert labels == ["highest site", "median site", "lowest site"]


def test_participation_table_counts_refusals_and_dropouts(dp_run: Path) -> None:
    text = " ".join(parse_report((dp_run / "report.html").read_text(), "participation").text)
    md = (dp_run / "report.md").read_text()
    assert "| site-0 | 3 | 0 | 1 | — |" not in md  # site-0 trained 2 of 3 rounds
    assert "| site-0 | 2 | 0 | 1 | — |" in md
    assert "| site-1 | 3 | 0 | 0 | — |" in md
    assert "| site-3 | 0 | 1 | 0 | budget: 9.9 of 10 spent |" in md
    assert "Refusals before round 1" in text and "budget" in text


def test_round_table_shows_traffic_when_rows_count_it(dp_run: Path) -> None:
    md = (dp_run / "report.md").read_text()
    assert "sent / received" not in md  # rows without bytes_sent: no column
    rows = [json.loads(line) for line in (dp_run / "metrics.jsonl").read_text().splitlines()]
    for row in rows:
        row.update(bytes_sent=1_234_567, bytes_received=987)
    (dp_run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    write_report(dp_run)
    md = (dp_run / "report.md").read_text()
    assert "| sent / received | seconds |" in md and "| 1.23 MB / 987 B |" in md


def test_non_private_run_has_no_epsilon_chart_and_says_so(tmp_path: Path) -> None:
    run = write_run_dir(tmp_path / "none", private=False)
    html = write_report(run).read_text()
    charts = parse_report(html).charts
    assert "plot-accuracy" in charts and "plot-epsilon" not in charts
    assert "No record-level ε per round: the sites trained without DP-SGD." in html
    summary = " ".join(parse_report(html, "summary").text)
    assert "NOT PRIVATE" in summary


def test_site_level_run_plots_site_level_epsilon(tmp_path: Path) -> None:
    run = write_run_dir(tmp_path / "client", site_level=True)
    charts = parse_report(write_report(run).read_text()).charts
    assert charts["plot-site-level-epsilon"].startswith("Site-level ε per round (rdp")
    assert "unit=site" in charts["plot-site-level-epsilon"]


def test_a_run_stopped_before_round_one_still_gets_a_report(dp_run: Path) -> None:
    (dp_run / "metrics.jsonl").unlink()
    (dp_run / "outcome.json").write_text(json.dumps({
        "status": "stopped", "reason": "too few sites: 1 usable, min_sites=2",
        "rounds_completed": 0, "run_id": RUN_ID}))
    html = write_report(dp_run).read_text()
    summary = " ".join(parse_report(html, "summary").text)
    assert "The run stopped after 0 rounds: too few sites: 1 usable, min_sites=2" in summary
    assert "No round finished" in html
    assert "plot-accuracy" not in parse_report(html).charts
    assert "the run stopped: too few sites" in html  # a failure mode seen in this run


def test_html_is_self_contained(dp_run: Path) -> None:
    html = (dp_run / "report.html").read_text()
    assert "http:" not in html and "https:" not in html and "//" not in html.replace(
        "<!DOCTYPE", "")
    for forbidden in ("<script", "<link", "<img", "<iframe", "url(", "@import", "src="):
        assert forbidden not in html.lower(), forbidden
    assert html.count("<svg ") == 3


def test_model_card_describes_data_without_values(dp_run: Path) -> None:
    html = (dp_run / "report.html").read_text()
    card = " ".join(parse_report(html, "model-card").text)
    for heading in ("Intended use", "Data per site", "Metrics", "Limitations",
                    "Known failure modes"):
        assert heading in card
    assert "64 features (64 numeric, 0 categorical)" in card
    assert "10 classes" in card
    assert ("Each site (site-0, site-1, site-2, site-3): one iid partition of the task's "
            "pooled table") in card
    assert "site-0: 1 failed round(s)" in card and "site-3: excluded" in card
    assert "parquet" not in html  # the sites' data files are never named


def test_audit_result_is_stated_next_to_the_claimed_epsilon(dp_run: Path) -> None:
    audit = {"attack": "membership inference on canary gradients", "canaries": 1000,
             "confidence": 0.95, "epsilon_lower_bound": 0.42, "claimed_epsilon": 3.0,
             "delta": 1e-5, "accountant": "rdp", "unit": "record", "trials": 2}
    (dp_run / "audit.json").write_text(json.dumps(audit))
    html = write_report(dp_run).read_text()
    text = " ".join(parse_report(html, "privacy-audit").text)
    assert "membership inference on canary gradients" in text
    assert "1000 canaries" in text and "confidence 0.95" in text
    assert "0.42" in text and "claimed ε (audit.json)" in text
    assert "consistent with the claim" in text
    assert "ε added by this run per site" in text  # the claimed ε of privacy.json beside it
    audit["epsilon_lower_bound"] = 4.0
    (dp_run / "audit.json").write_text(json.dumps(audit))
    text = " ".join(parse_report(write_report(dp_run).read_text(), "privacy-audit").text)
    assert "EXCEEDS the claimed ε" in text
    audit.update(claimed_epsilon=None, accountant=None)  # the audit of a non-private run
    (dp_run / "audit.json").write_text(json.dumps(audit))
    text = " ".join(parse_report(write_report(dp_run).read_text(), "privacy-audit").text)
    assert "the audited training claimed no DP" in text and "leaks at least ε 4" in text


def test_audit_without_its_keys_is_reported_not_guessed(dp_run: Path) -> None:
    (dp_run / "audit.json").write_text(json.dumps({"attack": "x"}))
    text = " ".join(parse_report(write_report(dp_run).read_text(), "privacy-audit").text)
    assert f"audit.json lacks {', '.join(AUDIT_KEYS[1:])}" in text
    assert AUDIT_KEYS == ("attack", "canaries", "confidence", "epsilon_lower_bound",
                          "claimed_epsilon", "delta", "accountant", "unit")
    (dp_run / "audit.json").unlink()
    text = " ".join(parse_report(write_report(dp_run).read_text(), "privacy-audit").text)
    assert "No empirical audit for this run" in text


def test_sweep_report_plots_accuracy_against_epsilon(tmp_path: Path) -> None:
    sweep = write_sweep_dir(tmp_path / "sweep", epsilons=(1.0, 3.0, 8.0))
    html = write_report(sweep).read_text()
    charts = parse_report(html).charts
    assert charts["plot-privacy-utility"] == "Privacy–utility: final accuracy against ε"
    chart = html[html.index('id="plot-privacy-utility"'):]
    chart = chart[:chart.index("</svg>")]
    dp_series = chart[chart.index('data-label="DP-SGD runs"'):]
    assert dp_series[:dp_series.index("</g>")].count("<circle") == 3
    assert 'class="reference"' in chart and "non-private (3)" in chart
    md = (sweep / "report.md").read_text()
    assert "| 0 | privacy.epsilon=1 | finished | 3 | 3 | 1 (rdp, δ=1e-05, unit=record)" in md
    assert "| 3 | privacy=none | finished | 3 | — | — (no DP-SGD)" in md
    assert (sweep / "report-plots" / "privacy-utility.svg").is_file()


def test_privfl_report_rebuilds_a_run_and_a_sweep(tmp_path: Path, capsys) -> None:
    run = write_run_dir(tmp_path / "run")
    assert cli(["report", str(run)]) == 0
    assert (run / "report.html").is_file() and (run / "report.md").is_file()
    assert f"report: {run / 'report.html'}" in capsys.readouterr().out
    sweep = write_sweep_dir(tmp_path / "sweep")
    assert cli(["report", str(sweep)]) == 0
    assert (sweep / "report.html").is_file()


@pytest.mark.parametrize("make, expected", [
    (lambda p: p / "missing", "is not a directory"),
    (lambda p: p, "is neither a privfl run directory (no outcome.json and privacy.json) nor a "
                  "sweep directory (no multirun.yaml)"),
])
def test_privfl_report_refuses_what_is_not_a_run(tmp_path: Path, capsys, make,
                                                 expected: str) -> None:
    assert cli(["report", str(make(tmp_path))]) == 2
    err = capsys.readouterr().err
    assert err.startswith("privfl: error: ") and expected in err and err.count("\n") == 1
    assert not (tmp_path / "report.html").exists()


def test_a_broken_run_file_is_one_error_and_never_fails_the_run(tmp_path: Path, capsys,
                                                                caplog) -> None:
    run = write_run_dir(tmp_path / "run")
    (run / "privacy.json").write_text("{not json")
    assert cli(["report", str(run)]) == 2
    assert "cannot read" in capsys.readouterr().err
    with caplog.at_level(logging.WARNING, logger="privfl"):
        assert write_report_safely(run) is None
    assert "could not write the report" in caplog.text and "privfl report" in caplog.text
    assert not (run / "report.html").exists()
