"""Line charts as plain SVG text: no plotting library, no fonts or scripts to fetch.

The SVG is meant to be inlined in HTML (no ``xmlns`` needed there); :func:`standalone`
adds the namespace for a ``.svg`` file of its own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 720, 360
LEFT, RIGHT, TOP, BOTTOM = 64, 230, 40, 48
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
           "#F0E442")
"""Okabe-Ito: distinguishable with the common colour-vision deficiencies."""
SVG_NAMESPACE = "http://www.w3.org/2000/svg"


@dataclass(frozen=True)
class Series:
    """One line (or, with ``line=False``, one set of points) of a chart."""

    label: str
    points: tuple[tuple[float, float], ...]
    dashed: bool = False
    line: bool = True


@dataclass(frozen=True)
class ReferenceLine:
    """A labelled horizontal line across the whole chart (e.g. a non-private baseline)."""

    label: str
    y: float


def line_chart(chart_id: str, title: str, x_label: str, y_label: str,
               series: Sequence[Series], *, references: Sequence[ReferenceLine] = (),
               y_range: tuple[float, float] | None = None, integer_x: bool = False,
               x_from_zero: bool = False) -> str:
    """An SVG line chart with axes, ticks, a legend and ``title`` (also as ``<title>``)."""
    xs = [x for s in series for x, _ in s.points] + ([0.0] if x_from_zero else [])
    ys = [y for s in series for _, y in s.points] + [r.y for r in references]
    x_ticks = _ticks(min(xs, default=0.0), max(xs, default=1.0), integer=integer_x)
    y_ticks = (_ticks(*y_range) if y_range else
               _ticks(min([0.0, *ys]), max(ys, default=1.0)))
    frame = _Frame(x_ticks[0], x_ticks[-1], y_ticks[0], y_ticks[-1])
    parts = [
        f'<svg id="{escape(chart_id)}" class="chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" font-family="sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
        f'<text x="{WIDTH / 2:.0f}" y="22" text-anchor="middle" font-size="14" '
        f'font-weight="bold">{escape(title)}</text>',
        *_axes(frame, x_ticks, y_ticks, x_label, y_label),
    ]
    for i, ref in enumerate(references):
        y = frame.y(ref.y)
        parts.append(f'<line class="reference" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" '
                     f'y2="{y:.1f}" stroke="#555555" stroke-dasharray="2 3"/>')
        parts.append(_legend_entry(len(series) + i, ref.label, "#555555", dashed=True))
    for i, s in enumerate(series):
        colour = COLOURS[i % len(COLOURS)]
        parts.append(_series(frame, s, colour))
        parts.append(_legend_entry(i, s.label, colour, dashed=s.dashed))
    parts.append("</svg>")
    return "\n".join(parts)


def standalone(svg: str) -> str:
    """``svg`` as the content of a ``.svg`` file (with its XML namespace)."""
    return svg.replace("<svg ", f'<svg xmlns="{SVG_NAMESPACE}" ', 1) + "\n"


@dataclass(frozen=True)
class _Frame:
    """Maps data coordinates to the plot area."""

    x0: float
    x1: float
    y0: float
    y1: float

    def x(self, value: float) -> float:
        span = self.x1 - self.x0 or 1.0
        return LEFT + (value - self.x0) / span * (WIDTH - LEFT - RIGHT)

    def y(self, value: float) -> float:
        span = self.y1 - self.y0 or 1.0
        return HEIGHT - BOTTOM - (value - self.y0) / span * (HEIGHT - TOP - BOTTOM)


def _ticks(low: float, high: float, *, integer: bool = False, count: int = 5) -> list[float]:
    """Round tick values covering ``[low, high]`` (steps of 1, 2 or 5 times a power of 10)."""
    if high <= low:
        high = low + 1.0
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    if integer:
        step = max(1.0, math.ceil(step))
    start = math.floor(low / step) * step
    ticks = [start]
    while ticks[-1] < high - 1e-12 * step:
        ticks.append(ticks[-1] + step)
    return [round(t, 12) for t in ticks]


def _label(value: float) -> str:
    return f"{value:g}"


def _axes(frame: _Frame, x_ticks: list[float], y_ticks: list[float], x_label: str,
          y_label: str) -> list[str]:
    bottom, right = HEIGHT - BOTTOM, WIDTH - RIGHT
    parts = [f'<g class="axes" stroke="#999999">'
             f'<line x1="{LEFT}" x2="{right}" y1="{bottom}" y2="{bottom}"/>'
             f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{bottom}"/></g>']
    for t in y_ticks:
        y = frame.y(t)
        parts.append(f'<line x1="{LEFT}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" '
                     'stroke="#eeeeee"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
                     f"{_label(t)}</text>")
    for t in x_ticks:
        x = frame.x(t)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{bottom}" y2="{bottom + 4}" '
                     'stroke="#999999"/>')
        parts.append(f'<text x="{x:.1f}" y="{bottom + 17}" text-anchor="middle">'
                     f"{_label(t)}</text>")
    parts.append(f'<text x="{(LEFT + right) / 2:.0f}" y="{HEIGHT - 10}" '
                 f'text-anchor="middle">{escape(x_label)}</text>')
    mid = (TOP + bottom) / 2
    parts.append(f'<text x="16" y="{mid:.0f}" text-anchor="middle" '
                 f'transform="rotate(-90 16 {mid:.0f})">{escape(y_label)}</text>')
    return parts


def _series(frame: _Frame, series: Series, colour: str) -> str:
    points = [(frame.x(x), frame.y(y)) for x, y in series.points]
    dash = ' stroke-dasharray="6 4"' if series.dashed else ""
    parts = [f'<g class="series" data-label="{escape(series.label)}">']
    if series.line and len(points) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                     f'stroke-width="2"{dash}/>')
    parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"/>' for x, y in points]
    parts.append("</g>")
    return "".join(parts)


def _legend_entry(index: int, label: str, colour: str, *, dashed: bool) -> str:
    x, y = WIDTH - RIGHT + 16, TOP + 8 + 18 * index
    dash = ' stroke-dasharray="6 4"' if dashed else ""
    return (f'<g class="legend"><line x1="{x}" x2="{x + 22}" y1="{y}" y2="{y}" '
            f'stroke="{colour}" stroke-width="2"{dash}/>'
            f'<text x="{x + 28}" y="{y + 4}">{escape(label)}</text></g>')
