"""Server-rendered SVG charts, sized by their viewBox so that they fill a phone's width.

Colours come from app.css classes (the Content-Security-Policy forbids inline styles,
and dark mode changes them). Each chart carries a <title> and a <desc>; pages put the
same figures in a table next to it (the text alternative).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _
from markupsafe import Markup, escape

WIDTH = 320
BAR_ROW = 30


@dataclass(frozen=True, slots=True)
class Point:
    label: str  # short label under the bar
    value: float | None  # None: nothing to draw (hidden or undefined)
    text: str  # the value as shown to a reader, e.g. "12", "45 %"

    def caption(self) -> str:
        """The label and its value, as a tooltip or a description reads them."""
        return _("%(label)s : %(value)s", label=self.label, value=self.text)


def _nice_max(values: Sequence[float], percent: bool) -> float:
    top = max(values, default=0.0)
    if percent or top <= 0:
        return 1.0
    magnitude = float(10 ** (len(str(int(top))) - 1))
    for step in (1, 2, 2.5, 5, 10):
        if top <= step * magnitude:
            return step * magnitude
    return top


def column_chart(
    points: Sequence[Point], title: str, description: str, chart_id: str, percent: bool = False
) -> Markup:
    """Vertical bars, one per week; hidden values drawn as a hatched stub."""
    height, top, bottom, left = 160, 26, 22, 4
    plot_height = height - top - bottom
    scale_max = _nice_max([p.value for p in points if p.value is not None], percent)
    slot = (WIDTH - left) / max(len(points), 1)
    bar = slot * 0.7
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" focusable="false">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
        f'<line class="chart-axis" x1="{left}" y1="{top + plot_height}" '
        f'x2="{WIDTH}" y2="{top + plot_height}"/>',
        f'<text class="chart-scale" x="{left}" y="{top - 4}">'
        f"{escape(format_percent(1) if percent else format_decimal(scale_max))}</text>",
    ]
    for index, point in enumerate(points):
        x = left + index * slot + (slot - bar) / 2
        middle = x + bar / 2
        if point.value is None:
            stub = 6
            parts.append(
                f'<rect class="chart-bar-hidden" x="{x:.1f}" y="{top + plot_height - stub}" '
                f'width="{bar:.1f}" height="{stub}"><title>{escape(point.caption())}'
                f"</title></rect>"
            )
            value_y: float = top + plot_height - stub - 3
        else:
            bar_height = plot_height * point.value / scale_max
            value_y = top + plot_height - bar_height - 3
            parts.append(
                f'<rect class="chart-bar" x="{x:.1f}" y="{value_y + 3:.1f}" '
                f'width="{bar:.1f}" height="{bar_height:.1f}"><title>{escape(point.caption())}'
                f"</title></rect>"
            )
        parts.append(
            f'<text class="chart-bar-value" x="{middle:.1f}" y="{value_y:.1f}" '
            f'text-anchor="middle">{escape(point.text)}</text>'
        )
        # Every other label, counted from the last, when they would not fit side by side.
        if len(points) <= 6 or (len(points) - 1 - index) % 2 == 0:
            parts.append(
                f'<text class="chart-label" x="{middle:.1f}" y="{height - 6}" '
                f'text-anchor="middle">{escape(point.label)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every interpolated text is escaped above)


def bar_chart(
    points: Sequence[Point], title: str, description: str, chart_id: str, percent: bool = False
) -> Markup:
    """Horizontal bars with the label above each bar: readable on a narrow screen."""
    height = BAR_ROW * len(points) + 4
    scale_max = _nice_max([p.value for p in points if p.value is not None], percent)
    value_width = 64
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" focusable="false">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]
    for index, point in enumerate(points):
        y = index * BAR_ROW
        parts.append(f'<text class="chart-label" x="0" y="{y + 11}">{escape(point.label)}</text>')
        length = 0.0 if point.value is None else (WIDTH - value_width) * point.value / scale_max
        css = "chart-bar" if point.value is not None else "chart-bar-hidden"
        parts.append(
            f'<rect class="{css}" x="0" y="{y + 15}" width="{max(length, 2):.1f}" height="10"/>'
        )
        parts.append(
            f'<text class="chart-value" x="{max(length, 2) + 4:.1f}" y="{y + 24}">'
            f"{escape(point.text)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every interpolated text is escaped above)
