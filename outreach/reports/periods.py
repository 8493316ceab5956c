"""Fixed periods made of whole ISO weeks (Europe/Paris), so that every period nests.

A month is the set of ISO weeks whose Thursday falls in that calendar month, the
rule ISO 8601 uses to give a week to a year: weeks then nest exactly into months,
months into quarters, quarters into ISO years. Year to date and "since the plan
began" run up to the last complete week.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import format_date
from flask_babel import gettext as _

from ..clock import PARIS, iso_week_of

WEEK_PATTERN = re.compile(r"^(\d{4})-W(\d{2})$")
# Weeks this app can hold: far enough on both sides for any record, near enough that
# shifting a week by a year or two stays a valid date.
FIRST_YEAR, LAST_YEAR = 2000, 2199
PERIOD_KINDS = ("week", "month", "quarter", "ytd", "plan")


def parse_week(text: str) -> tuple[int, int]:
    """(ISO year, week) of "2026-W47"; ValueError when the week does not exist."""
    match = WEEK_PATTERN.match(text)
    if not match:
        raise ValueError(f"not an ISO week: {text!r}")
    year, week = int(match.group(1)), int(match.group(2))
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"not a week of {FIRST_YEAR} to {LAST_YEAR}: {text!r}")
    date.fromisocalendar(year, week, 1)  # raises for week 53 of a 52-week year
    return year, week


def is_week(text: str) -> bool:
    try:
        parse_week(text)
    except ValueError:
        return False
    return True


def monday_of(week: str) -> date:
    return date.fromisocalendar(*parse_week(week), 1)


def thursday_of(week: str) -> date:
    return date.fromisocalendar(*parse_week(week), 4)


def week_of_day(day: date) -> str:
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


def shift_week(week: str, weeks: int) -> str:
    return week_of_day(monday_of(week) + timedelta(weeks=weeks))


def weeks_between(first: str, last: str) -> list[str]:
    """Every week from first to last, both included (empty when first > last)."""
    start, end = monday_of(first), monday_of(last)
    return [week_of_day(start + timedelta(weeks=n)) for n in range((end - start).days // 7 + 1)]


def week_start_utc(week: str) -> datetime:
    """Monday 00:00 in Paris, as an aware UTC datetime (DST-proof)."""
    return datetime.combine(monday_of(week), time(0), tzinfo=PARIS).astimezone(UTC)


def last_complete_week(now: datetime) -> str:
    return shift_week(iso_week_of(now), -1)


def month_of(week: str) -> tuple[int, int]:
    thursday = thursday_of(week)
    return thursday.year, thursday.month


def quarter_of(week: str) -> tuple[int, int]:
    year, month = month_of(week)
    return year, (month - 1) // 3 + 1


def first_week_of_month(year: int, month: int) -> str:
    first = date(year, month, 1)
    # The first Thursday of the month decides the first week.
    first_thursday = first + timedelta(days=(3 - first.weekday()) % 7)
    return week_of_day(first_thursday)


def first_week_of_quarter(year: int, quarter: int) -> str:
    return first_week_of_month(year, 3 * quarter - 2)


def first_week_of_year(year: int) -> str:
    return f"{year}-W01"


def month_start_week(week: str) -> str:
    return first_week_of_month(*month_of(week))


def quarter_start_week(week: str) -> str:
    return first_week_of_quarter(*quarter_of(week))


def year_start_week(week: str) -> str:
    return first_week_of_year(parse_week(week)[0])


@dataclass(frozen=True, slots=True)
class Period:
    """A fixed period: its kind, its key (as in URLs and CSVs) and its weeks."""

    kind: str
    key: str
    first_week: str
    last_week: str

    @property
    def weeks(self) -> list[str]:
        return weeks_between(self.first_week, self.last_week)

    def label(self) -> str:
        if self.kind == "week":
            return _("Semaine %(week)s", week=self.key)
        if self.kind == "month":
            year, month = (int(part) for part in self.key.split("-"))
            return format_date(date(year, month, 1), "MMMM y")
        if self.kind == "quarter":
            quarter_year, quarter = self.key.split("-Q")
            return _("%(quarter)se trimestre %(year)s", quarter=quarter, year=quarter_year)
        if self.kind == "year":
            return _("Année %(year)s", year=self.key)
        if self.kind == "ytd":
            return _(
                "Année %(year)s jusqu'à la semaine %(week)s", year=self.key, week=self.last_week
            )
        return _(
            "Depuis le début du plan (%(first)s – %(last)s)",
            first=self.first_week,
            last=self.last_week,
        )


def week_period(week: str) -> Period:
    parse_week(week)
    return Period("week", week, week, week)


def month_period(year: int, month: int) -> Period:
    next_year, next_month = (year + 1, 1) if month == 12 else (year, month + 1)
    last = shift_week(first_week_of_month(next_year, next_month), -1)
    return Period("month", f"{year}-{month:02d}", first_week_of_month(year, month), last)


def quarter_period(year: int, quarter: int) -> Period:
    first = first_week_of_quarter(year, quarter)
    next_first = (
        first_week_of_year(year + 1) if quarter == 4 else first_week_of_quarter(year, quarter + 1)
    )
    return Period("quarter", f"{year}-Q{quarter}", first, shift_week(next_first, -1))


def year_period(year: int) -> Period:
    """The whole ISO year: its weeks 01 to 52 or 53."""
    return Period("year", str(year), first_week_of_year(year), week_of_day(date(year, 12, 28)))


def ytd_period(last_complete: str) -> Period:
    year = parse_week(last_complete)[0]
    return Period("ytd", str(year), first_week_of_year(year), last_complete)


def plan_period(plan_start: str, last_complete: str) -> Period:
    return Period("plan", "plan", plan_start, last_complete)


def complete_periods(kind: str, plan_start: str, last_complete: str) -> list[Period]:
    """The periods of a kind a funder may choose: complete ones, newest first."""
    if kind == "ytd":
        return [ytd_period(last_complete)]
    if kind == "plan":
        return [plan_period(plan_start, last_complete)]
    weeks = weeks_between(plan_start, last_complete)
    periods: dict[str, Period] = {}
    for week in weeks:
        if kind == "week":
            period = week_period(week)
        elif kind == "month":
            period = month_period(*month_of(week))
        else:
            period = quarter_period(*quarter_of(week))
        if period.last_week <= last_complete:
            periods[period.key] = period
    return sorted(periods.values(), key=lambda period: period.first_week, reverse=True)


def period_from_key(kind: str, key: str, plan_start: str, last_complete: str) -> Period | None:
    """The complete period of that kind and key, or None (unknown or not over yet)."""
    if kind not in PERIOD_KINDS:
        return None
    for period in complete_periods(kind, plan_start, last_complete):
        if period.key == key:
            return period
    return None
