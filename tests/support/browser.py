"""A real headless Chromium (Debian's ``chromium``, installed by ``.ci/run``) that renders a
local page and records which network requests the page itself made (Chrome's NetLog).

The browser's own background traffic (update checks, account lookups) is told apart from
the page's by the request's network isolation key: only the page's requests carry the
``file://`` top frame.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    '--host-resolver-rules=MAP * ~NOTFOUND', "--window-size=1200,2400",
)


def find_browser() -> str | None:
    """The path of a Chromium-family browser, or None."""
    return next((path for name in CANDIDATES if (path := shutil.which(name))), None)


@dataclass(frozen=True)
class Rendered:
    """What the browser made of a page."""

    dom: str
    """The DOM after rendering (``--dump-dom``)."""
    screenshot: Path
    page_requests: list[str]
    """URLs the page requested over the network (none for a self-contained page)."""


def render(browser: str, page: Path, workdir: Path) -> Rendered:
    """Render ``page`` twice (DOM dump with a NetLog, then a screenshot)."""
    workdir.mkdir(parents=True, exist_ok=True)
    netlog, screenshot = workdir / "netlog.json", workdir / "page.png"
    url = page.resolve().as_uri()
    dom = _run(browser, workdir / "profile-dom", f"--log-net-log={netlog}", "--dump-dom", url)
    _run(browser, workdir / "profile-shot", f"--screenshot={screenshot}", url)
    return Rendered(dom, screenshot, _page_requests(netlog))


def _run(browser: str, profile: Path, *args: str) -> str:
    proc = subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120, check=True)
    return proc.stdout


def _page_requests(netlog: Path) -> list[str]:
    log = json.loads(netlog.read_text())
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return [event["params"]["url"] for event in log["events"]
            if event["type"] == start and "file://" in
            event.get("params", {}).get("network_isolation_key", "")]
