"""Local time of the patrols (Europe/Paris): ISO weeks and night hours."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
NIGHT_STARTS_AT_HOUR = 20  # 20:00 to 06:59 is night (docs/domain.md)
NIGHT_ENDS_BEFORE_HOUR = 7


def now_utc() -> datetime:
    return datetime.now(UTC)


def to_paris(moment: datetime) -> datetime:
    return moment.astimezone(PARIS)


def iso_week_of(moment: datetime) -> str:
    year, week, _ = to_paris(moment).isocalendar()
    return f"{year}-W{week:02d}"


def is_night(moment: datetime) -> bool:
    hour = to_paris(moment).hour
    return hour >= NIGHT_STARTS_AT_HOUR or hour < NIGHT_ENDS_BEFORE_HOUR


def to_minute(moment: datetime) -> datetime:
    """Contacts are kept to the minute at most (privacy rule)."""
    return moment.replace(second=0, microsecond=0)
