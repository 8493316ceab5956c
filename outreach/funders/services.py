"""Aggregates for funders: counts across associations, small counts hidden."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..clock import iso_week_of
from ..models import Contact

DEFAULT_SUPPRESSION_THRESHOLD = 5


def complete_weeks(now: datetime, count: int) -> list[str]:
    """The `count` last complete ISO weeks, oldest first."""
    return [iso_week_of(now - timedelta(weeks=back)) for back in range(count, 0, -1)]


def protected(count: int, threshold: int = DEFAULT_SUPPRESSION_THRESHOLD) -> int | None:
    """None stands for a hidden count (1 to threshold - 1): it can identify someone."""
    return None if 0 < count < threshold else count


def weekly_contacts(
    session: Session, weeks: Sequence[str], threshold: int = DEFAULT_SUPPRESSION_THRESHOLD
) -> list[tuple[str, int | None]]:
    """Contacts per week, all associations together.

    A single series with no published total: hiding a small week cannot be undone
    by subtraction.
    """
    counts = dict(
        session.execute(
            select(Contact.iso_week, func.count(Contact.id))
            .where(Contact.iso_week.in_(weeks))
            .group_by(Contact.iso_week)
        ).all()
    )
    return [(week, protected(counts.get(week, 0), threshold)) for week in weeks]
