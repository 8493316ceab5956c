"""Charts of the report pages, from the services' figures (kept out of the views)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import gettext as _
from markupsafe import Markup

from .charts import Point, bar_chart, column_chart
from .formatting import format_value
from .indicators import Indicator
from .services import Cell, Figure


@dataclass(frozen=True, slots=True)
class Chart:
    svg: Markup
    rows: Sequence[tuple[str, str]]  # the same figures as text: the chart's alternative


def short_week(week: str) -> str:
    return week.split("-")[1]


def _weekly(
    indicator: Indicator, weeks: Sequence[str], points: Sequence[Point], title: str
) -> Chart:
    svg = column_chart(
        points,
        title,
        _(
            "%(indicator)s, semaines %(first)s à %(last)s : %(values)s.",
            indicator=indicator.label,
            first=weeks[0],
            last=weeks[-1],
            values=", ".join(f"{point.label} {point.text}" for point in points),
        ),
        f"trend-{indicator.code.replace('.', '-')}",
        percent=indicator.unit == "share",
    )
    return Chart(svg, [(week, point.text) for week, point in zip(weeks, points, strict=True)])


def trend_chart(
    indicator: Indicator, weeks: Sequence[str], values: Sequence[float | None]
) -> Chart:
    points = [
        Point(short_week(week), value, format_value(indicator, value))
        for week, value in zip(weeks, values, strict=True)
    ]
    title = _("%(indicator)s par semaine", indicator=indicator.label)
    return _weekly(indicator, weeks, points, title)


def published_trend_chart(
    indicator: Indicator, weeks: Sequence[str], cells: Sequence[Cell]
) -> Chart:
    points = [
        Point(short_week(week), cell.value, format_value(indicator, cell.value))
        for week, cell in zip(weeks, cells, strict=True)
    ]
    title = _("%(indicator)s par semaine, toutes associations", indicator=indicator.label)
    return _weekly(indicator, weeks, points, title)


def breakdown_chart(title: str, figures: Sequence[Figure], chart_id: str) -> Chart:
    """The non-zero figures of a family (needs, materials, referrals), largest first."""
    shown = sorted((f for f in figures if f.value), key=lambda f: -(f.value or 0))
    points = [
        Point(str(f.indicator.label), f.value, format_value(f.indicator, f.value)) for f in shown
    ]
    description = "; ".join(point.caption() for point in points) or _("Aucun.")
    return Chart(
        bar_chart(points, title, description, chart_id), [(p.label, p.text) for p in points]
    )
