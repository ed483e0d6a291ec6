"""Reports of real runs: one `privfl simulate -m privacy=dp_sgd,none experiment=quick`
sweep through the real Simulation Runtime gives a DP run, a non-DP run (each with the
report the ServerApp wrote) and the sweep report Hydra's callback wrote."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from server.report.record import load_run
from tests.e2e.conftest import CliRun, run_privfl
from tests.support.browser import find_browser, render
from tests.support.report_html import NUMBER, numbers_in, parse_report

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sweep(workdir: Path) -> tuple[CliRun, Path]:
    sweep_dir = workdir / "sweep"
    result = run_privfl("simulate", "-m", "privacy=dp_sgd,none", "experiment=quick",
                        f"hydra.sweep.dir={sweep_dir}", cwd=workdir)
    assert result.returncode == 0, result.stderr[-3000:]
    return result, sweep_dir


def _member(sweep_dir: Path, privacy: str) -> Path:
    for member in sweep_dir.iterdir():
        overrides = member / ".hydra" / "overrides.yaml"
        if overrides.is_file() and f"privacy={privacy}" in overrides.read_text():
            return member
    raise AssertionError(f"no member with privacy={privacy} in {sweep_dir}")


@pytest.mark.parametrize("privacy", ["dp_sgd", "none"])
def test_each_run_leaves_its_report(sweep, privacy: str) -> None:
    _, sweep_dir = sweep
    run = _member(sweep_dir, privacy)
    html = (run / "report.html").read_text()
    md = (run / "report.md").read_text()
    charts = parse_report(html).charts
    assert charts["plot-accuracy"] == "Accuracy per round"
    assert ("plot-epsilon" in charts) == (privacy == "dp_sgd")
    for figure in re.findall(r"\]\((report-plots/[^)]+\.svg)\)", md):
        assert (run / figure).is_file()
    privacy_json = json.loads((run / "privacy.json").read_text())
    statement = " ".join(parse_report(html).text)
    assert {float(n) for n in NUMBER.findall(statement)} <= numbers_in(privacy_json)
    for site in privacy_json["sites"].values():
        if privacy == "dp_sgd":
            assert json.dumps(site["run_epsilon"]) in statement
    assert "http:" not in html and "https:" not in html and "<script" not in html


def test_epsilon_per_round_from_the_ledgers_ends_at_privacy_json(sweep) -> None:
    _, sweep_dir = sweep
    run = load_run(_member(sweep_dir, "dp_sgd"))
    assert run.outcome["run_id"]
    assert set(run.epsilon.by_site) == set(run.privacy["sites"])
    for site, per_round in run.epsilon.by_site.items():
        assert list(per_round) == [1, 2]
        assert per_round[2] == pytest.approx(run.privacy["sites"][site]["run_epsilon"],
                                             rel=1e-12)


def test_sweep_report_after_the_last_job(sweep) -> None:
    result, sweep_dir = sweep
    assert f"privfl: sweep report in {sweep_dir / 'report.html'}" in result.stdout
    html = (sweep_dir / "report.html").read_text()
    chart = html[html.index('id="plot-privacy-utility"'):]
    chart = chart[:chart.index("</svg>")]
    assert chart.count("<circle") == 1 and 'class="reference"' in chart
    assert "non-private" in chart
    assert (sweep_dir / "report-plots" / "privacy-utility.svg").is_file()


def test_privfl_report_rebuilds_the_same_report(sweep, workdir: Path) -> None:
    _, sweep_dir = sweep
    run = _member(sweep_dir, "dp_sgd")
    written = (run / "report.html").read_text()
    (run / "report.html").unlink()
    result = run_privfl("report", str(run), cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert (run / "report.html").read_text() == written


@pytest.mark.skipif(find_browser() is None,
                    reason="no headless browser: install Debian's chromium (.ci/run does)")
def test_dp_report_renders_in_chromium(sweep, tmp_path: Path) -> None:
    _, sweep_dir = sweep
    rendered = render(find_browser(), _member(sweep_dir, "dp_sgd") / "report.html", tmp_path)
    assert rendered.page_requests == []
    for chart in ("plot-accuracy", "plot-epsilon"):
        assert f'<svg id="{chart}"' in rendered.dom
    assert rendered.screenshot.stat().st_size > 20_000
