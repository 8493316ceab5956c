"""Follow-up by code: an association's history for one pseudonym, and referral outcomes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ..audit import audit
from ..models import Association, AuditEntry, Contact, Referral, ReferralStatusChange, User
from ..pseudonyms import CodeProblem, code_problem, normalise_code, pseudonymise
from ..vocabulary import REFERRAL_TRANSITIONS

HISTORY_LIMIT = 50
LOOKUP_ACTION = "followup.lookup"
THROTTLED_ACTION = "followup.throttled"
STATUS_CHANGED_ACTION = "referral.status_changed"
# How many characters of the association's pseudonym the person's reference shows.
REFERENCE_LENGTH = 6


class TransitionError(ValueError):
    """A referral status change that the referral's current status does not allow."""


def association_pseudonym(
    pseudonym_key: str, association: Association, code: str
) -> str | CodeProblem:
    """The association's pseudonym for a typed code, or why the code is unusable."""
    normalised = normalise_code(code)
    problem = code_problem(normalised)
    if problem is not None:
        return problem
    return pseudonymise(pseudonym_key, association.slug, normalised).association


def person_reference(pseudonym: str) -> str:
    """The short reference of a person shown to the association's staff (follow-up page,
    referral queue): the head of the association's keyed pseudonym, never the code."""
    return "#" + pseudonym[:REFERENCE_LENGTH].upper()


def record_lookup(session: Session, user: User, association: Association, found: bool) -> None:
    """Audit a lookup: who and whether someone was found, never the code or its pseudonym."""
    audit(session, LOOKUP_ACTION, actor=user, association_id=association.id, found=found)


@dataclass(frozen=True, slots=True)
class LookupVolume:
    user: User
    lookups: int
    unusual: bool


def lookup_volumes(
    session: Session, association_id: int, since: datetime, unusual_from: int
) -> list[LookupVolume]:
    """Lookups by code per account of the association since `since`, most first."""
    rows = session.execute(
        select(User, func.count(AuditEntry.id))
        .join(AuditEntry, AuditEntry.actor_id == User.id)
        .where(
            AuditEntry.action == LOOKUP_ACTION,
            AuditEntry.association_id == association_id,
            AuditEntry.occurred_at >= since,
        )
        .group_by(User.id)
        .order_by(func.count(AuditEntry.id).desc(), User.id)
    ).all()
    return [LookupVolume(user, count, count >= unusual_from) for user, count in rows]


def person_known(session: Session, association_id: int, pseudonym: str) -> bool:
    """Whether the association has met this person (one indexed lookup, no history loaded)."""
    return (
        session.scalar(
            select(Contact.id)
            .where(
                Contact.association_id == association_id,
                Contact.pseudonym_association == pseudonym,
            )
            .limit(1)
        )
        is not None
    )


def person_history(session: Session, association_id: int, pseudonym: str) -> Sequence[Contact]:
    """This association's contacts with the person, newest first; never another's."""
    return session.scalars(
        select(Contact)
        .where(
            Contact.association_id == association_id,
            Contact.pseudonym_association == pseudonym,
        )
        .options(
            selectinload(Contact.needs),
            selectinload(Contact.referrals).selectinload(Referral.history),
            selectinload(Contact.zone),
        )
        .order_by(Contact.occurred_at.desc(), Contact.id.desc())
        .limit(HISTORY_LIMIT)
    ).all()


def get_referral(session: Session, association_id: int, referral_id: int) -> Referral | None:
    return session.scalar(
        select(Referral)
        .join(Contact, Contact.id == Referral.contact_id)
        .where(Referral.id == referral_id, Contact.association_id == association_id)
    )


def next_statuses(referral: Referral) -> tuple[str, ...]:
    return REFERRAL_TRANSITIONS[referral.status]


def change_referral_status(
    session: Session, referral: Referral, status: str, user: User, now: datetime
) -> None:
    if status not in next_statuses(referral):
        raise TransitionError(f"{referral.status} cannot become {status}")
    referral.status = status
    referral.status_changed_at = now
    referral.history.append(
        ReferralStatusChange(status=status, changed_at=now, changed_by_id=user.id)
    )
    session.flush()


def update_referral_status(
    session: Session,
    referral: Referral,
    status: str,
    user: User,
    association_id: int,
    now: datetime,
) -> None:
    """Move a referral of the association on and audit it (from the person or the queue)."""
    change_referral_status(session, referral, status, user, now)
    audit(
        session,
        STATUS_CHANGED_ACTION,
        actor=user,
        association_id=association_id,
        referral_id=referral.id,
        status=referral.status,
    )
