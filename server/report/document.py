"""A report as plain data (sections of paragraphs, lists, tables and figures), rendered
to HTML by :mod:`server.report.html` and to Markdown by :mod:`server.report.markdown`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Table:
    """A table of text cells."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str | None = None


@dataclass(frozen=True)
class Figure:
    """A chart: ``svg`` is inlined in HTML and written as ``report-plots/<name>.svg``."""

    name: str
    svg: str
    caption: str


@dataclass(frozen=True)
class Items:
    """A bulleted list."""

    items: tuple[str, ...]


@dataclass(frozen=True)
class Alert:
    """A paragraph that must stand out (NOT PRIVATE, a failed run)."""

    text: str


@dataclass(frozen=True)
class Heading:
    """A heading inside a section."""

    text: str


Block = str | Table | Figure | Items | Alert | Heading
"""A plain ``str`` is a paragraph."""


@dataclass(frozen=True)
class Section:
    """A titled part of the report; ``id`` is its HTML anchor."""

    id: str
    title: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Document:
    """A whole report."""

    title: str
    subtitle: str
    sections: tuple[Section, ...]

    @property
    def figures(self) -> list[Figure]:
        """Every figure, in order."""
        return [b for s in self.sections for b in s.blocks if isinstance(b, Figure)]
