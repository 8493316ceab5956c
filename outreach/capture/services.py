"""Patrols and contacts: plain functions over a session. They flush; the request commits."""

from __future__ import annotations

import enum
import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, literal, null, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from ..clock import is_night, iso_week_of
from ..models import (
    Association,
    Contact,
    ContactMaterial,
    ContactNeed,
    Material,
    Need,
    Patrol,
    PatrolMember,
    Referral,
    ReferralDestination,
    ReferralStatusChange,
    User,
    Zone,
)
from ..pseudonyms import pseudonymise
from ..vocabulary import ASSOCIATION_ROLES
from .validation import CaptureOptions, ContactDraft, RetiredCode


class Outcome(enum.Enum):
    CREATED = "created"
    UNCHANGED = "unchanged"  # the same id and the same body again: a replay
    CONFLICT = "conflict"  # the same id with another body


@dataclass(frozen=True, slots=True)
class RecordResult:
    contact: Contact
    outcome: Outcome


# Patrol ids are 32-bit integers: a larger number cannot be one (nor be bound by SQLite).
MAX_PATROL_ID = 2**31 - 1


class PatrolError(Exception):
    """A patrol action that the patrol's state does not allow."""


def load_capture_options(
    session: Session,
    association_id: int,
    patrol_ids: Iterable[object] = (),
    client_ids: Iterable[object] = (),
) -> CaptureOptions:
    """What validation needs: the codes that exist and which are retired, which of the patrol
    ids the input mentions belong to this association (only those are looked up), and the
    retired codes that the contacts already stored under the input's ids hold."""

    # Zones and the three taxonomies in one round trip: this runs on every capture request.
    taxonomies = (("need", Need), ("material", Material), ("destination", ReferralDestination))
    rows = session.execute(
        union_all(
            select(literal("zone"), Zone.code, Zone.id, Zone.active),
            *(
                select(literal(kind), model.code, null(), model.active)
                for kind, model in taxonomies
            ),
        )
    ).all()
    retired: set[RetiredCode] = {(kind, code) for kind, code, _, active in rows if not active}

    def codes(kind: str) -> frozenset[str]:
        return frozenset(code for of_kind, code, _, _ in rows if of_kind == kind)

    wanted = {
        i
        for i in patrol_ids
        if isinstance(i, int) and not isinstance(i, bool) and 0 < i <= MAX_PATROL_ID
    }
    return CaptureOptions(
        zones={code: zone_id for kind, code, zone_id, _ in rows if kind == "zone"},
        needs=codes("need"),
        materials=codes("material"),
        destinations=codes("destination"),
        patrol_ids=frozenset(
            session.scalars(
                select(Patrol.id).where(
                    Patrol.association_id == association_id, Patrol.id.in_(wanted)
                )
            )
        )
        if wanted
        else frozenset(),
        retired=frozenset(retired),
        kept=_kept_retired_codes(session, association_id, client_ids) if retired else {},
    )


def _as_uuid(value: object) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            return None
    return None


def _kept_retired_codes(
    session: Session, association_id: int, client_ids: Iterable[object]
) -> dict[uuid.UUID, frozenset[RetiredCode]]:
    """The retired codes held by this association's stored contacts with these ids."""
    ids = {parsed for value in client_ids if (parsed := _as_uuid(value)) is not None}
    if not ids:
        return {}
    of_these = (Contact.association_id == association_id, Contact.client_id.in_(ids))
    queries = (
        (
            "zone",
            select(Contact.client_id, Zone.code)
            .join(Zone, Zone.id == Contact.zone_id)
            .where(*of_these, Zone.active.is_(False)),
        ),
        (
            "need",
            select(Contact.client_id, ContactNeed.need_code)
            .join(ContactNeed)
            .join(Need, Need.code == ContactNeed.need_code)
            .where(*of_these, Need.active.is_(False)),
        ),
        (
            "material",
            select(Contact.client_id, ContactMaterial.material_code)
            .join(ContactMaterial)
            .join(Material, Material.code == ContactMaterial.material_code)
            .where(*of_these, Material.active.is_(False)),
        ),
        (
            "destination",
            select(Contact.client_id, Referral.destination_code)
            .join(Referral)
            .join(ReferralDestination, ReferralDestination.code == Referral.destination_code)
            .where(*of_these, ReferralDestination.active.is_(False)),
        ),
    )
    kept: dict[uuid.UUID, set[RetiredCode]] = {}
    for kind, query in queries:
        for client_id, code in session.execute(query):
            kept.setdefault(client_id, set()).add((kind, code))
    return {client_id: frozenset(codes) for client_id, codes in kept.items()}


def _pseudonyms(
    draft: ContactDraft, association: Association, pseudonym_key: str
) -> tuple[str | None, str | None]:
    if draft.normalised_code is None:
        return None, None
    pseudonyms = pseudonymise(pseudonym_key, association.slug, draft.normalised_code)
    return pseudonyms.association, pseudonyms.region


def body_digest(draft: ContactDraft, pseudonym_association: str | None) -> str:
    """Digest of what was recorded, with the pseudonym standing in for the code."""
    canonical = {
        "occurred_at": draft.occurred_at.isoformat(),
        "zone": draft.zone_code,
        "patrol_id": draft.patrol_id,
        "pseudonym": pseudonym_association,
        "gender": draft.gender,
        "age_band": draft.age_band,
        "housing": draft.housing,
        "first_contact": draft.first_contact,
        "needs": list(draft.needs),
        "materials": [list(item) for item in draft.materials],
        "referrals": [[r.destination, r.accompanied, r.status] for r in draft.referrals],
    }
    encoded = json.dumps(canonical, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()


def _find_contact(session: Session, association_id: int, draft: ContactDraft) -> Contact | None:
    return session.scalar(
        select(Contact).where(
            Contact.association_id == association_id, Contact.client_id == draft.client_id
        )
    )


def _compare(existing: Contact, digest: str) -> RecordResult:
    outcome = Outcome.UNCHANGED if existing.body_digest == digest else Outcome.CONFLICT
    return RecordResult(existing, outcome)


def _apply(contact: Contact, draft: ContactDraft, author: User, now: datetime) -> None:
    contact.occurred_at = draft.occurred_at
    contact.iso_week = iso_week_of(draft.occurred_at)
    contact.night = is_night(draft.occurred_at)
    contact.zone_id = draft.zone_id
    contact.patrol_id = draft.patrol_id
    contact.gender = draft.gender
    contact.age_band = draft.age_band
    contact.housing = draft.housing
    contact.first_contact = draft.first_contact
    contact.needs = [ContactNeed(need_code=code) for code in draft.needs]
    contact.materials = [
        ContactMaterial(material_code=code, quantity=quantity) for code, quantity in draft.materials
    ]
    kept = {referral.destination_code: referral for referral in contact.referrals}
    referrals: list[Referral] = []
    for item in draft.referrals:
        referral = kept.get(item.destination)
        if referral is None:
            referral = Referral(
                destination_code=item.destination,
                status=item.status,
                status_changed_at=now,
                history=[
                    ReferralStatusChange(
                        status=item.status, changed_at=now, changed_by_id=author.id
                    )
                ],
            )
        referral.accompanied = item.accompanied
        referrals.append(referral)
    contact.referrals = referrals


def build_contact(
    draft: ContactDraft,
    author: User,
    association: Association,
    pseudonym_key: str,
    now: datetime,
) -> Contact:
    """A new, unsaved contact for the draft (pseudonyms computed, code dropped)."""
    pseudonym_association, pseudonym_region = _pseudonyms(draft, association, pseudonym_key)
    contact = Contact(
        client_id=draft.client_id,
        association_id=association.id,
        author_id=author.id,
        pseudonym_association=pseudonym_association,
        pseudonym_region=pseudonym_region,
        body_digest=body_digest(draft, pseudonym_association),
        created_at=now,
        updated_at=now,
    )
    _apply(contact, draft, author, now)
    return contact


def record_contact(
    session: Session,
    draft: ContactDraft,
    author: User,
    association: Association,
    pseudonym_key: str,
    now: datetime,
) -> RecordResult:
    """Store a new contact, idempotently on (association, client id)."""
    contact = build_contact(draft, author, association, pseudonym_key, now)
    existing = _find_contact(session, association.id, draft)
    if existing is not None:
        return _compare(existing, contact.body_digest)
    try:
        # A savepoint, so that losing a race on the same id does not undo the request.
        with session.begin_nested():
            session.add(contact)
            session.flush()
    except IntegrityError:
        winner = _find_contact(session, association.id, draft)
        if winner is None:
            raise
        return _compare(winner, contact.body_digest)
    return RecordResult(contact, Outcome.CREATED)


def record_contacts(
    session: Session,
    drafts: Sequence[ContactDraft],
    author: User,
    association: Association,
    pseudonym_key: str,
    now: datetime,
) -> list[RecordResult]:
    """A phone's outbox in one go: one lookup and one flush for the whole batch.

    Same outcomes as `record_contact` item by item (a repeated id inside the batch is
    a replay or a conflict of the first); if a concurrent request stored one of these
    ids meanwhile, the batch falls back to the one-by-one path.
    """
    ids = [draft.client_id for draft in drafts]
    known: dict[uuid.UUID, Contact] = {
        contact.client_id: contact
        for contact in session.scalars(
            select(Contact).where(
                Contact.association_id == association.id, Contact.client_id.in_(ids)
            )
        )
    }
    results: list[RecordResult | None] = [None] * len(drafts)
    fresh: list[tuple[int, Contact]] = []
    for index, draft in enumerate(drafts):
        contact = build_contact(draft, author, association, pseudonym_key, now)
        prior = known.get(draft.client_id)
        if prior is not None:
            results[index] = _compare(prior, contact.body_digest)
        else:
            known[draft.client_id] = contact
            fresh.append((index, contact))
    try:
        with session.begin_nested():
            session.add_all(contact for _, contact in fresh)
            session.flush()
    except IntegrityError:
        return [
            record_contact(session, draft, author, association, pseudonym_key, now)
            for draft in drafts
        ]
    for index, contact in fresh:
        results[index] = RecordResult(contact, Outcome.CREATED)
    return [result for result in results if result is not None]


def can_edit(contact: Contact, user: User) -> bool:
    """A contact stays editable by its author until its patrol ends."""
    return contact.author_id == user.id and contact.patrol is not None and contact.patrol.is_open


def update_contact(
    session: Session,
    contact: Contact,
    draft: ContactDraft,
    editor: User,
    association: Association,
    pseudonym_key: str,
    now: datetime,
) -> Contact:
    if not can_edit(contact, editor):
        raise PatrolError("contact no longer editable")
    if draft.normalised_code is not None:  # an empty code keeps the current pseudonym
        contact.pseudonym_association, contact.pseudonym_region = _pseudonyms(
            draft, association, pseudonym_key
        )
    _apply(contact, draft, editor, now)
    contact.body_digest = body_digest(draft, contact.pseudonym_association)
    contact.updated_at = now
    session.flush()
    return contact


def team_members(session: Session, association_id: int) -> Sequence[User]:
    return session.scalars(
        select(User)
        .where(
            User.association_id == association_id,
            User.active.is_(True),
            User.role.in_(ASSOCIATION_ROLES),
        )
        .order_by(User.display_name, User.id)
    ).all()


def active_zones(session: Session) -> Sequence[Zone]:
    return session.scalars(
        select(Zone).where(Zone.active.is_(True)).order_by(Zone.position, Zone.name)
    ).all()


def open_patrol_of(session: Session, user: User) -> Patrol | None:
    """The open patrol the user belongs to, the most recent if several."""
    return session.scalar(
        select(Patrol)
        .join(PatrolMember)
        .where(PatrolMember.user_id == user.id, Patrol.ended_at.is_(None))
        .order_by(Patrol.started_at.desc(), Patrol.id.desc())
        .limit(1)
    )


def get_patrol(session: Session, association_id: int, patrol_id: int) -> Patrol | None:
    """A patrol of this association only: another association's id looks like a missing one."""
    return session.scalar(
        select(Patrol).where(Patrol.id == patrol_id, Patrol.association_id == association_id)
    )


def get_contact(session: Session, association_id: int, contact_id: int) -> Contact | None:
    return session.scalar(
        select(Contact).where(Contact.id == contact_id, Contact.association_id == association_id)
    )


def start_patrol(
    session: Session,
    association: Association,
    zone: Zone,
    starter: User,
    member_ids: Iterable[int],
    now: datetime,
) -> Patrol:
    allowed = {member.id for member in team_members(session, association.id)}
    chosen = (set(member_ids) & allowed) | {starter.id}
    patrol = Patrol(
        association_id=association.id,
        zone_id=zone.id,
        started_by_id=starter.id,
        started_at=now,
        members=[PatrolMember(user_id=user_id) for user_id in sorted(chosen)],
    )
    session.add(patrol)
    session.flush()
    return patrol


@dataclass(frozen=True, slots=True)
class PatrolReport:
    people_seen_not_met: int
    atmosphere: str
    used_material_collected: int
    site_observations: str


def end_patrol(session: Session, patrol: Patrol, report: PatrolReport, now: datetime) -> None:
    if not patrol.is_open:
        raise PatrolError("patrol already ended")
    patrol.ended_at = max(now, patrol.started_at)
    patrol.people_seen_not_met = report.people_seen_not_met
    patrol.atmosphere = report.atmosphere
    patrol.used_material_collected = report.used_material_collected
    patrol.site_observations = report.site_observations.strip() or None
    session.flush()


def patrol_contact_count(session: Session, patrol: Patrol) -> int:
    return session.scalar(select(func.count()).where(Contact.patrol_id == patrol.id)) or 0


def recent_contacts(session: Session, patrol: Patrol, limit: int = 10) -> Sequence[Contact]:
    return session.scalars(
        select(Contact)
        .where(Contact.patrol_id == patrol.id)
        .options(
            selectinload(Contact.needs),
            selectinload(Contact.materials),
            selectinload(Contact.referrals),
        )
        .order_by(Contact.occurred_at.desc(), Contact.id.desc())
        .limit(limit)
    ).all()


@dataclass(frozen=True, slots=True)
class Labels:
    """Labels of codes in one language, for showing a history (retired entries included)."""

    needs: dict[str, str]
    destinations: dict[str, str]
    materials: dict[str, str]


def taxonomy_labels(session: Session, language: str) -> Labels:
    """The labels in `language` ("fr" or "en", as `i18n.current_language()`)."""

    def labels(model: type[Need] | type[Material] | type[ReferralDestination]) -> dict[str, str]:
        label = model.label_en if language == "en" else model.label_fr
        return {code: text for code, text in session.execute(select(model.code, label))}

    return Labels(
        needs=labels(Need), destinations=labels(ReferralDestination), materials=labels(Material)
    )
