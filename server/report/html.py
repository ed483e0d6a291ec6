"""A report as one self-contained HTML file: inline CSS and SVG, no scripts, no links
to anything outside the page (it opens offline and makes no network request)."""

from __future__ import annotations

from html import escape

from server.report.document import Alert, Block, Document, Figure, Heading, Items, Section, Table

STYLE = """
body { font-family: sans-serif; max-width: 72rem; margin: 2rem auto; padding: 0 1rem;
       color: #1a1a1a; line-height: 1.45; }
h1 { margin-bottom: 0.2rem; } .subtitle { color: #555; margin-top: 0; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2rem; margin-top: 2.2rem; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.9rem; display: block;
        overflow-x: auto; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: left;
         vertical-align: top; }
td:first-child { white-space: nowrap; }
th { background: #f3f3f3; } caption { text-align: left; font-weight: bold; padding: 0.3rem 0; }
figure { margin: 1rem 0; } figcaption { color: #444; font-size: 0.9rem; }
.warning { background: #fff1f0; border-left: 4px solid #c0392b; padding: 0.5rem 0.8rem;
           font-weight: bold; }
nav ul { columns: 2; }
"""


def render_html(doc: Document) -> str:
    """The whole page."""
    nav = "".join(f'<li><a href="#{escape(s.id)}">{escape(s.title)}</a></li>'
                  for s in doc.sections)
    body = "\n".join(_section(s) for s in doc.sections)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(doc.title)}</title>\n"
        f"<style>{STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{escape(doc.title)}</h1>\n<p class=\"subtitle\">{escape(doc.subtitle)}</p>\n"
        f"<nav><ul>{nav}</ul></nav>\n{body}\n</body>\n</html>\n"
    )


def _section(section: Section) -> str:
    blocks = "\n".join(_block(b) for b in section.blocks)
    return (f'<section id="{escape(section.id)}">\n<h2>{escape(section.title)}</h2>\n'
            f"{blocks}\n</section>")


def _block(block: Block) -> str:
    if isinstance(block, str):
        return f"<p>{escape(block)}</p>"
    if isinstance(block, Heading):
        return f"<h3>{escape(block.text)}</h3>"
    if isinstance(block, Alert):
        return f'<p class="warning">{escape(block.text)}</p>'
    if isinstance(block, Items):
        return "<ul>" + "".join(f"<li>{escape(item)}</li>" for item in block.items) + "</ul>"
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Figure):
        return f"<figure>{block.svg}<figcaption>{escape(block.caption)}</figcaption></figure>"
    raise TypeError(f"unknown report block {block!r}")


def _table(table: Table) -> str:
    caption = f"<caption>{escape(table.caption)}</caption>" if table.caption else ""
    head = ("<thead><tr>" + "".join(f"<th>{escape(cell)}</th>" for cell in table.header)
            + "</tr></thead>" if any(table.header) else "")
    rows = "".join("<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>"
                   for row in table.rows)
    return f"<table>{caption}{head}<tbody>{rows}</tbody></table>"
