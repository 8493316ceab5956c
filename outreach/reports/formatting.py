"""How figures read in the interface's language: grouped counts, shares as percentages."""

from __future__ import annotations

from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _

from ..i18n import current_language
from .indicators import Indicator

# French keeps an ordinary space before "%" (CLDR's is unbreakable), so that the narrow
# columns of the report tables may wrap on a phone; other languages take CLDR's ("70%").
PERCENT_PATTERNS = {"fr": "#,##0 %"}


def format_value(indicator: Indicator, value: float | None) -> str:
    if value is None:
        return "–"
    if indicator.unit == "share":
        return format_percent(value, PERCENT_PATTERNS.get(current_language()))
    if indicator.unit in ("rate", "hours"):
        return format_decimal(value, "#,##0.0")
    return format_decimal(value, "#,##0")


def format_change(indicator: Indicator, value: float | None, previous: float | None) -> str:
    """Change since the previous week: "+3", "-2 pts", or "" when there is nothing to compare."""
    if value is None or previous is None:
        return ""
    if indicator.unit == "share":
        points = round((value - previous) * 100)
        return _("%(sign)s%(points)s pts", sign=_sign(points), points=abs(points))
    difference = value - previous
    number = format_decimal(abs(difference), "#,##0.#" if indicator.unit != "count" else "#,##0")
    return f"{_sign(difference)}{number}"


def _sign(number: float) -> str:
    return "+" if number > 0 else "\u2212" if number < 0 else "±"
