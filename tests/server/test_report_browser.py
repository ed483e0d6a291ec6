"""The run report in a real headless Chromium: it renders with its charts and makes no
network request (checked against a control page that does make one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.report.write import write_report
from tests.support.browser import find_browser, render
from tests.support.run_dirs import write_run_dir

BROWSER = find_browser()
pytestmark = pytest.mark.skipif(
    BROWSER is None, reason="no headless browser: install Debian's chromium "
                            "(.ci/run does: apt-get install chromium)")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_control_page_request_is_detected(tmp_path: Path) -> None:
    page = tmp_path / "control.html"
    page.write_text('<html><body><img src="https://example.com/x.png"></body></html>')
    rendered = render(BROWSER, page, tmp_path / "browser")
    assert rendered.page_requests == ["https://example.com/x.png"]


def test_report_renders_offline_with_its_charts(tmp_path: Path) -> None:
    run = write_run_dir(tmp_path / "run")
    rendered = render(BROWSER, write_report(run), tmp_path / "browser")
    assert rendered.page_requests == []
    dom = rendered.dom
    for chart, title in (("plot-accuracy", "Accuracy per round"),
                         ("plot-epsilon", "Record-level ε per site per round")):
        start = dom.index(f'<svg id="{chart}"')
        svg = dom[start:dom.index("</svg>", start)]
        assert f"<title>{title}" in svg
        assert "<polyline" in svg and svg.count("<circle") >= 3
    assert '<section id="privacy-statement">' in dom
    assert rendered.screenshot.read_bytes().startswith(PNG_MAGIC)
    assert rendered.screenshot.stat().st_size > 20_000  # a page with content, not blank
