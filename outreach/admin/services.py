from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Association, User, Zone


@dataclass(frozen=True, slots=True)
class AssociationOverview:
    association: Association
    accounts_by_role: dict[str, int]


def associations_overview(session: Session) -> list[AssociationOverview]:
    counts: dict[int, dict[str, int]] = {}
    for association_id, role, count in session.execute(
        select(User.association_id, User.role, func.count(User.id))
        .where(User.association_id.is_not(None))
        .group_by(User.association_id, User.role)
    ).all():
        if association_id is not None:
            counts.setdefault(association_id, {})[role] = count
    associations = session.scalars(select(Association).order_by(Association.name)).all()
    return [AssociationOverview(a, counts.get(a.id, {})) for a in associations]


def platform_accounts(session: Session) -> Sequence[User]:
    """Funders and admins: the accounts that belong to no association."""
    return session.scalars(
        select(User).where(User.association_id.is_(None)).order_by(User.role, User.email)
    ).all()


def zones(session: Session) -> Sequence[Zone]:
    return session.scalars(select(Zone).order_by(Zone.position, Zone.name)).all()
