"""The referral queue: an association's open referrals, the overdue ones first.

A referral is open while it is proposed or accepted. It waits from the contact where it
was made while it is proposed, and from its acceptance once accepted; it is overdue ("à
relancer") once it has waited its destination's delay (`referral_overdue_days`, or the
destination's own in `referral_overdue_by_destination`). Only the association's own
referrals are ever read; the person shows by the short reference of the follow-up page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import ColumnElement, and_, func, not_, or_, select
from sqlalchemy.orm import Session

from config import Settings

from ..models import Contact, Referral
from ..vocabulary import REFERRAL_TRANSITIONS
from .services import person_reference

OPEN_STATUSES = ("proposed", "accepted")
QUEUE_LIMIT = 200

NEXT_STEPS: dict[str, LazyString] = {
    "proposed": _l("Demander à la personne si elle accepte l'orientation"),
    "accepted": _l("Vérifier si la personne s'y est rendue"),
}


@dataclass(frozen=True, slots=True)
class OverdueDelays:
    """Days before an open referral is overdue: a default and per-destination overrides."""

    default: int
    by_destination: Mapping[str, int]

    @classmethod
    def from_settings(cls, settings: Settings) -> OverdueDelays:
        return cls(settings.referral_overdue_days, dict(settings.referral_overdue_by_destination))

    def days_for(self, destination_code: str) -> int:
        return self.by_destination.get(destination_code, self.default)


@dataclass(frozen=True, slots=True)
class QueuedReferral:
    referral_id: int
    destination_code: str
    status: str
    made_at: datetime
    age_days: int
    due_at: datetime
    overdue: bool
    reference: str | None  # None: a contact without a code
    next_statuses: tuple[str, ...]


def waiting_since(status: str, made_at: datetime, status_changed_at: datetime) -> datetime:
    """Proposed: since the contact; accepted: since the acceptance."""
    return made_at if status == "proposed" else status_changed_at


def open_referrals(
    session: Session,
    association_id: int,
    delays: OverdueDelays,
    now: datetime,
    limit: int = QUEUE_LIMIT,
) -> list[QueuedReferral]:
    """The association's open referrals, overdue first (longest overdue first), then by
    the day they fall due; never another association's."""
    rows = session.execute(
        select(
            Referral.id,
            Referral.destination_code,
            Referral.status,
            Referral.status_changed_at,
            Contact.occurred_at,
            Contact.pseudonym_association,
        )
        .join(Contact, Contact.id == Referral.contact_id)
        .where(Contact.association_id == association_id, Referral.status.in_(OPEN_STATUSES))
    ).all()
    items = []
    for referral_id, destination, status, changed_at, made_at, pseudonym in rows:
        due_at = waiting_since(status, made_at, changed_at) + timedelta(
            days=delays.days_for(destination)
        )
        items.append(
            QueuedReferral(
                referral_id=referral_id,
                destination_code=destination,
                status=status,
                made_at=made_at,
                age_days=max((now - made_at).days, 0),
                due_at=due_at,
                overdue=due_at <= now,
                reference=person_reference(pseudonym) if pseudonym else None,
                next_statuses=REFERRAL_TRANSITIONS[status],
            )
        )
    items.sort(key=lambda item: (item.due_at, item.referral_id))
    return items[:limit]


def overdue_count(
    session: Session, association_id: int, delays: OverdueDelays, now: datetime
) -> int:
    """How many of the association's open referrals are overdue (one counting query)."""
    groups = [
        _waited(now - timedelta(days=days), Referral.destination_code == code)
        for code, days in delays.by_destination.items()
    ]
    others = not_(Referral.destination_code.in_(list(delays.by_destination)))
    groups.append(_waited(now - timedelta(days=delays.default), others))
    count = session.scalar(
        select(func.count(Referral.id))
        .join(Contact, Contact.id == Referral.contact_id)
        .where(Contact.association_id == association_id, or_(*groups))
    )
    return int(count or 0)


def _waited(cutoff: datetime, destinations: ColumnElement[bool]) -> ColumnElement[bool]:
    return and_(
        destinations,
        or_(
            and_(Referral.status == "proposed", Contact.occurred_at <= cutoff),
            and_(Referral.status == "accepted", Referral.status_changed_at <= cutoff),
        ),
    )
