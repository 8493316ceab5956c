"""The supervisor's view of the current week for their own association."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ..models import Contact, Patrol, PatrolMember, User, Zone


@dataclass(frozen=True, slots=True)
class PatrolSummary:
    patrol: Patrol
    contacts: int


@dataclass(frozen=True, slots=True)
class WeekActivity:
    iso_week: str
    contacts: int
    contacts_by_zone: Sequence[tuple[str, int]]
    patrols: Sequence[PatrolSummary]


def week_activity(session: Session, association_id: int, iso_week: str) -> WeekActivity:
    by_zone = session.execute(
        select(Zone.name, func.count(Contact.id))
        .join(Zone, Zone.id == Contact.zone_id)
        .where(Contact.association_id == association_id, Contact.iso_week == iso_week)
        .group_by(Zone.name)
        .order_by(func.count(Contact.id).desc(), Zone.name)
    ).all()
    patrol_ids = select(Contact.patrol_id).where(
        Contact.association_id == association_id, Contact.iso_week == iso_week
    )
    counts = dict(
        session.execute(
            select(Contact.patrol_id, func.count(Contact.id))
            .where(Contact.patrol_id.in_(patrol_ids))
            .group_by(Contact.patrol_id)
        ).all()
    )
    patrols = session.scalars(
        select(Patrol)
        .where(Patrol.association_id == association_id, Patrol.id.in_(patrol_ids))
        .options(
            selectinload(Patrol.zone),
            selectinload(Patrol.members).selectinload(PatrolMember.user),
        )
        .order_by(Patrol.started_at.desc())
    ).all()
    return WeekActivity(
        iso_week=iso_week,
        contacts=sum(count for _, count in by_zone),
        contacts_by_zone=by_zone,
        patrols=[PatrolSummary(patrol, counts.get(patrol.id, 0)) for patrol in patrols],
    )


def team(session: Session, association_id: int) -> Sequence[User]:
    return session.scalars(
        select(User).where(User.association_id == association_id).order_by(User.display_name)
    ).all()
