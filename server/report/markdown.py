"""A report as Markdown; its charts are SVG files in ``report-plots/`` beside it."""

from __future__ import annotations

from server.report.document import Alert, Block, Document, Figure, Heading, Items, Section, Table

PLOTS = "report-plots"


def render_markdown(doc: Document) -> str:
    """The whole Markdown text (figures referenced as ``report-plots/<name>.svg``)."""
    parts = [f"# {doc.title}", "", f"_{_inline(doc.subtitle)}_", ""]
    for section in doc.sections:
        parts += _section(section)
    return "\n".join(parts).rstrip() + "\n"


def figure_path(figure: Figure) -> str:
    """Where a figure's SVG lies, relative to the report."""
    return f"{PLOTS}/{figure.name}.svg"


def _section(section: Section) -> list[str]:
    lines = [f"## {section.title}", ""]
    for block in section.blocks:
        lines += [*_block(block), ""]
    return lines


def _block(block: Block) -> list[str]:
    if isinstance(block, str):
        return [_inline(block)]
    if isinstance(block, Heading):
        return [f"### {_inline(block.text)}"]
    if isinstance(block, Alert):
        return [f"> **{_inline(block.text)}**"]
    if isinstance(block, Items):
        return [f"- {_inline(item)}" for item in block.items]
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Figure):
        return [f"![{_inline(block.caption)}]({figure_path(block)})", "",
                f"_{_inline(block.caption)}_"]
    raise TypeError(f"unknown report block {block!r}")


def _table(table: Table) -> list[str]:
    lines = [f"**{_inline(table.caption)}**", ""] if table.caption else []
    lines.append("| " + " | ".join(_cell(c) for c in table.header) + " |")
    lines.append("|" + "---|" * len(table.header))
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in table.rows]
    return lines


def _inline(text: str) -> str:
    """Text with Markdown's emphasis and link characters escaped."""
    for char in ("\\", "*", "_", "`", "[", "]", "<", ">"):
        text = text.replace(char, "\\" + char)
    return text


def _cell(text: str) -> str:
    return _inline(text).replace("|", "\\|").replace("\n", " ")
