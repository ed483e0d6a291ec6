"""Reading a report.html back in tests: a section's text, the charts' titles, numbers."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

NUMBER = re.compile(r"(?<![\w.-])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w.])")
"""A number standing alone (not the digit of ``site-0`` or of a word)."""


class _SectionText(HTMLParser):
    """The text of the element with a given id, and the SVG charts' ids and titles."""

    def __init__(self, section_id: str) -> None:
        super().__init__()
        self.section_id, self.depth, self.text = section_id, 0, []
        self.charts: dict[str, str] = {}
        self._chart: str | None = None
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attrs = dict(attrs)
        if self.depth or attrs.get("id") == self.section_id:
            self.depth += 1
        if tag == "svg":
            self._chart = attrs.get("id")
        self._in_title = tag == "title" and self._chart is not None

    def handle_endtag(self, tag: str) -> None:
        if self.depth:
            self.depth -= 1
        self._in_title = False

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.text.append(data)
        if self._in_title:
            self.charts[self._chart] = data


def parse_report(html: str, section_id: str = "privacy-statement") -> _SectionText:
    """The text of section ``section_id`` and every chart's title."""
    parser = _SectionText(section_id)
    parser.feed(html)
    return parser


def numbers_in(value: Any) -> set[float]:
    """Every number in a JSON value, also those written inside its strings."""
    if isinstance(value, bool):
        return set()
    if isinstance(value, int | float):
        return {float(value)}
    if isinstance(value, dict):
        return {n for v in value.values() for n in numbers_in(v)}
    if isinstance(value, list):
        return {n for v in value for n in numbers_in(v)}
    if isinstance(value, str):
        return {float(n) for n in NUMBER.findall(value)}
    return set()
