"""Patrols and contacts: plain functions over a session. They flush; the request commits."""

from __future__ import annotations

import enum
import functools
import hashlib
import json
import logging
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any, cast

from sqlalchemy import (
    CompoundSelect,
    Table,
    bindparam,
    case,
    exists,
    func,
    insert,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, joinedload, selectinload

from ..clock import is_night, iso_week_of
from ..extensions import Base
from ..i18n import localized
from ..models import (
    INTEGER_MAX,
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
    TaxonomyStamp,
    User,
    Zone,
)
from ..pseudonyms import pseudonymise
from ..vocabulary import ASSOCIATION_ROLES
from .validation import CaptureOptions, ContactDraft, PatrolAccess, RetiredCode

logger = logging.getLogger(__name__)


class Outcome(enum.Enum):
    CREATED = "created"
    UNCHANGED = "unchanged"  # the same id and the same body again: a replay
    CONFLICT = "conflict"  # the same id with another body


@dataclass(frozen=True, slots=True)
class RecordResult:
    contact_id: int  # the stored row: the new one, or the one stored earlier under this id
    client_id: uuid.UUID
    outcome: Outcome


class PatrolError(Exception):
    """A patrol action that the patrol's state does not allow."""


# The caller's access to a patrol (PatrolAccess), computed with the patrol's row.
_PATROL_ACCESS = case(
    (Patrol.ended_at.is_not(None), literal(PatrolAccess.CLOSED.value)),
    (
        exists().where(
            PatrolMember.patrol_id == Patrol.id,
            PatrolMember.user_id == bindparam("member_id"),
        ),
        literal(PatrolAccess.MEMBER.value),
    ),
    else_=literal(PatrolAccess.NOT_MEMBER.value),
)
_STAMP = select(literal("stamp"), TaxonomyStamp.stamp, null(), literal(True))
# What every capture request reads, in one round trip (statements built once, so that
# they are compiled once). Rows are (kind, code, id, active): the taxonomy stamp (its
# value as the code), then the input's patrols of this association, with the caller's
# access as their code.
_CAPTURE_CHECK = union_all(
    _STAMP,
    select(literal("patrol"), _PATROL_ACCESS, Patrol.id, literal(True)).where(
        Patrol.association_id == bindparam("association_id"),
        Patrol.id.in_(bindparam("patrol_ids", expanding=True)),
    ),
)
# Zones and the three taxonomies with their labels (a refusal names a retired entry), and
# the stamp they go with (one statement: one snapshot).
_TAXONOMY: CompoundSelect[Any] = union_all(
    select(literal("stamp"), TaxonomyStamp.stamp, null(), literal(True), null(), null()),
    select(literal("zone"), Zone.code, Zone.id, Zone.active, Zone.name, Zone.name),
    *(
        select(literal(kind), model.code, null(), model.active, model.label_fr, model.label_en)
        for kind, model in (
            ("need", Need),
            ("material", Material),
            ("destination", ReferralDestination),
        )
    ),
)


@dataclass(frozen=True, slots=True)
class _Taxonomy:
    zones: Mapping[str, int]
    needs: frozenset[str]
    materials: frozenset[str]
    destinations: frozenset[str]
    retired: frozenset[RetiredCode]
    # (French, English) labels of the retired entries.
    retired_labels: Mapping[RetiredCode, tuple[str, str]]


# The taxonomies by stamp, in this process. A stamp is random and renewed by the
# database at every write to these tables (migration 0006): a stamp found here is the
# database's current content. Kept small: only the latest stamps of a few databases.
_TAXONOMIES: dict[str, _Taxonomy] = {}
_TAXONOMIES_KEPT = 8


def _taxonomy(session: Session, stamp: str) -> _Taxonomy:
    """The zones and taxonomies that go with the stamp just read: from this process's
    cache, or read again (with the stamp they go with, which may be newer)."""
    if (known := _TAXONOMIES.get(stamp)) is not None:
        return known
    read_with = ""
    codes: dict[str, set[str]] = {"need": set(), "material": set(), "destination": set()}
    zones: dict[str, int] = {}
    retired: dict[RetiredCode, tuple[str, str]] = {}
    for kind, code, row_id, active, label_fr, label_en in session.connection().execute(_TAXONOMY):
        if kind == "stamp":
            read_with = code
            continue
        if kind == "zone":
            zones[code] = row_id
        else:
            codes[kind].add(code)
        if not active:
            retired[kind, code] = (label_fr, label_en)
    taxonomy = _Taxonomy(
        zones=MappingProxyType(zones),
        needs=frozenset(codes["need"]),
        materials=frozenset(codes["material"]),
        destinations=frozenset(codes["destination"]),
        retired=frozenset(retired),
        retired_labels=MappingProxyType(retired),
    )
    if not read_with:  # slower, never wrong: read again at every capture
        _warn_of_missing_stamp()
        return taxonomy
    if len(_TAXONOMIES) >= _TAXONOMIES_KEPT:
        _TAXONOMIES.clear()
    _TAXONOMIES[read_with] = taxonomy  # kept only under the stamp the database gave with it
    return taxonomy


@functools.cache  # once per process
def _warn_of_missing_stamp() -> None:
    logger.warning(
        "taxonomy_stamp has no row: every capture reads the taxonomies again"
        " (see migration 0006; docs/deploy.md)"
    )


def load_capture_options(
    session: Session,
    association_id: int,
    patrol_ids: Iterable[object] = (),
    client_ids: Iterable[object] = (),
    *,
    member_id: int | None = None,
) -> CaptureOptions:
    """What validation needs: the codes that exist and which are retired, which of the patrol
    ids the input mentions belong to this association (only those are looked up) with the
    access of user `member_id` to each, and the retired codes that the contacts already
    stored under the input's ids hold."""
    wanted = sorted(
        {
            i
            for i in patrol_ids
            if isinstance(i, int) and not isinstance(i, bool) and 0 < i <= INTEGER_MAX
        }
    )
    rows = session.connection().execute(
        _CAPTURE_CHECK,
        {"association_id": association_id, "patrol_ids": wanted, "member_id": member_id},
    )
    stamp = ""
    patrols: dict[int, PatrolAccess] = {}
    for kind, code, row_id, _active in rows:
        if kind == "stamp":
            stamp = code
        else:
            patrols[row_id] = PatrolAccess(code)
    taxonomy = _taxonomy(session, stamp)
    return CaptureOptions(
        zones=taxonomy.zones,
        needs=taxonomy.needs,
        materials=taxonomy.materials,
        destinations=taxonomy.destinations,
        patrols=patrols,
        retired=taxonomy.retired,
        kept=_KeptRetiredCodes(session, association_id, list(client_ids))
        if taxonomy.retired
        else {},
        retired_labels={key: localized(*labels) for key, labels in taxonomy.retired_labels.items()},
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


class _KeptRetiredCodes(Mapping[uuid.UUID, frozenset[RetiredCode]]):
    """The retired codes the input's stored contacts hold, looked up on first use only.

    Validation asks only about a code that is retired: a capture that uses none, the
    usual case once anything was ever retired, then costs no query for them.
    """

    def __init__(self, session: Session, association_id: int, client_ids: Sequence[object]) -> None:
        self._session = session
        self._association_id = association_id
        self._client_ids = client_ids
        self._found: dict[uuid.UUID, frozenset[RetiredCode]] | None = None

    def _load(self) -> dict[uuid.UUID, frozenset[RetiredCode]]:
        if self._found is None:
            self._found = _kept_retired_codes(self._session, self._association_id, self._client_ids)
        return self._found

    def __getitem__(self, client_id: uuid.UUID) -> frozenset[RetiredCode]:
        return self._load()[client_id]

    def __iter__(self) -> Iterator[uuid.UUID]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())


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


def _draft_columns(draft: ContactDraft) -> dict[str, Any]:
    """The contact's columns that come from the draft (the rest: who, when, pseudonyms)."""
    return {
        "occurred_at": draft.occurred_at,
        "iso_week": iso_week_of(draft.occurred_at),
        "night": is_night(draft.occurred_at),
        "zone_id": draft.zone_id,
        "patrol_id": draft.patrol_id,
        "gender": draft.gender,
        "age_band": draft.age_band,
        "housing": draft.housing,
        "first_contact": draft.first_contact,
    }


def _apply(contact: Contact, draft: ContactDraft, author: User, now: datetime) -> None:
    for name, value in _draft_columns(draft).items():
        setattr(contact, name, value)
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
    """A new, unsaved ORM contact for the draft (pseudonyms computed, code dropped), for
    loaders that then add to it (the demo seed's referral progress)."""
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


@dataclass(frozen=True, slots=True)
class _Pseudonymised:
    draft: ContactDraft
    pseudonym_association: str | None
    pseudonym_region: str | None
    digest: str


def _pseudonymised(
    draft: ContactDraft, association: Association, pseudonym_key: str
) -> _Pseudonymised:
    pseudonym_association, pseudonym_region = _pseudonyms(draft, association, pseudonym_key)
    return _Pseudonymised(
        draft, pseudonym_association, pseudonym_region, body_digest(draft, pseudonym_association)
    )


def record_contact(
    session: Session,
    draft: ContactDraft,
    author: User,
    association: Association,
    pseudonym_key: str,
    now: datetime,
) -> RecordResult:
    """Store a new contact, idempotently on (association, client id)."""
    [result] = record_contacts(session, [draft], author, association, pseudonym_key, now)
    return result


def record_contacts(
    session: Session,
    drafts: Sequence[ContactDraft],
    author: User,
    association: Association,
    pseudonym_key: str,
    now: datetime,
) -> list[RecordResult]:
    """Store new contacts, idempotently on (association, client id); results in input order.

    The contacts go in with one INSERT ... ON CONFLICT DO NOTHING: an id already stored,
    by an earlier request or by a concurrent one that won the race, inserts nothing, and
    the stored digest tells a replay from a conflict. No lookup before, no savepoint: a
    phone's outbox costs one statement per table, whatever its size. A repeated id inside
    the input is a replay or a conflict of its first occurrence.
    """
    items = [_pseudonymised(draft, association, pseudonym_key) for draft in drafts]
    first: dict[uuid.UUID, _Pseudonymised] = {}
    for item in items:
        first.setdefault(item.draft.client_id, item)
    created = _insert_new(session, list(first.values()), author.id, association.id, now)
    stored = _stored_contacts(session, association.id, [i for i in first if i not in created])
    stored |= {
        client_id: (row_id, first[client_id].digest) for client_id, row_id in created.items()
    }
    results: list[RecordResult] = []
    for item in items:
        client_id = item.draft.client_id
        row_id, digest = stored[client_id]
        if first[client_id] is item and client_id in created:
            outcome = Outcome.CREATED
        else:
            outcome = Outcome.UNCHANGED if digest == item.digest else Outcome.CONFLICT
        results.append(RecordResult(row_id, client_id, outcome))
    return results


def _table(model: type[Base]) -> Table:
    """A mapped class's table, typed as the Table it is (declarative types it FromClause)."""
    return cast(Table, model.__table__)


def _contact_insert(dialect: str) -> Any:
    """INSERT INTO contacts ... ON CONFLICT (association, client id) DO NOTHING RETURNING."""
    insert_new = postgresql_insert if dialect == "postgresql" else sqlite_insert
    contacts = _table(Contact)
    return (
        insert_new(contacts)
        .on_conflict_do_nothing(index_elements=["association_id", "client_id"])
        .returning(contacts.c.client_id, contacts.c.id)
    )


# Built once: the statements of a capture are compiled once per process, then cached.
_CONTACT_INSERTS = {dialect: _contact_insert(dialect) for dialect in ("postgresql", "sqlite")}
_NEED_INSERT = insert(_table(ContactNeed))
_MATERIAL_INSERT = insert(_table(ContactMaterial))
_REFERRAL_INSERT = insert(_table(Referral))
# Each new referral's first status, for all the new contacts in one statement.
_FIRST_STATUS_INSERT = insert(_table(ReferralStatusChange)).from_select(
    ["referral_id", "status", "changed_at", "changed_by_id"],
    select(Referral.id, Referral.status, Referral.status_changed_at, bindparam("author_id")).where(
        Referral.contact_id.in_(bindparam("contact_ids", expanding=True))
    ),
)


def _insert_new(
    session: Session,
    items: Sequence[_Pseudonymised],
    author_id: int,
    association_id: int,
    now: datetime,
) -> dict[uuid.UUID, int]:
    """Insert the contacts whose id is not stored yet, with their needs, materials and
    referrals; returns the row id of each contact inserted, by client id."""
    if not items:
        return {}
    # In the same order for every request, so that two overlapping batches cannot deadlock
    # on the unique index (PostgreSQL takes its entries' locks in insertion order).
    items = sorted(items, key=lambda item: item.draft.client_id)
    rows = [
        {
            "client_id": item.draft.client_id,
            "association_id": association_id,
            "author_id": author_id,
            "pseudonym_association": item.pseudonym_association,
            "pseudonym_region": item.pseudonym_region,
            "body_digest": item.digest,
            "created_at": now,
            "updated_at": now,
            **_draft_columns(item.draft),
        }
        for item in items
    ]
    # Core statements on the session's connection: the ORM layer has nothing to add to them.
    connection = session.connection()
    statement = _CONTACT_INSERTS[connection.dialect.name]
    created = {client_id: row_id for client_id, row_id in connection.execute(statement, rows)}
    new = [
        (created[item.draft.client_id], item.draft)
        for item in items
        if item.draft.client_id in created
    ]
    needs = [{"contact_id": row, "need_code": code} for row, draft in new for code in draft.needs]
    materials = [
        {"contact_id": row, "material_code": code, "quantity": quantity}
        for row, draft in new
        for code, quantity in draft.materials
    ]
    referrals = [
        {
            "contact_id": row,
            "destination_code": referral.destination,
            "accompanied": referral.accompanied,
            "status": referral.status,
            "status_changed_at": now,
        }
        for row, draft in new
        for referral in draft.referrals
    ]
    if needs:
        connection.execute(_NEED_INSERT, needs)
    if materials:
        connection.execute(_MATERIAL_INSERT, materials)
    if referrals:
        connection.execute(_REFERRAL_INSERT, referrals)
        connection.execute(
            _FIRST_STATUS_INSERT,
            {"author_id": author_id, "contact_ids": list(created.values())},
        )
    return created


def _stored_contacts(
    session: Session, association_id: int, client_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[int, str]]:
    """Row id and body digest of this association's stored contacts with these ids."""
    if not client_ids:
        return {}
    rows = session.execute(
        select(Contact.client_id, Contact.id, Contact.body_digest).where(
            Contact.association_id == association_id, Contact.client_id.in_(client_ids)
        )
    )
    return {client_id: (row_id, digest) for client_id, row_id, digest in rows}


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


# With its members, in the same query: every capture page checks that the user is one.
_PATROL_WITH_MEMBERS = (
    select(Patrol)
    .where(
        Patrol.id == bindparam("patrol_id"), Patrol.association_id == bindparam("association_id")
    )
    .options(joinedload(Patrol.members))
)


def get_patrol(session: Session, association_id: int, patrol_id: int) -> Patrol | None:
    """A patrol of this association only: another association's id looks like a missing one."""
    return (
        session.scalars(
            _PATROL_WITH_MEMBERS, {"patrol_id": patrol_id, "association_id": association_id}
        )
        .unique()
        .one_or_none()
    )


def get_contact(
    session: Session, association_id: int, contact_id: int, *, for_update: bool = False
) -> Contact | None:
    """`for_update` before an edit: a second edit of the same contact at once waits for the
    first to commit, then reads what it wrote (PostgreSQL; SQLite serialises edits anyway)."""
    query = select(Contact).where(
        Contact.id == contact_id, Contact.association_id == association_id
    )
    return session.scalar(query.with_for_update() if for_update else query)


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


def patrol_holds_contact(session: Session, patrol: Patrol, contact_id: int) -> bool:
    """Whether the contact belongs to the patrol."""
    found = select(Contact.id).where(Contact.id == contact_id, Contact.patrol_id == patrol.id)
    return session.scalar(found) is not None


def recent_contacts(session: Session, patrol: Patrol, limit: int = 10) -> Sequence[Contact]:
    return session.scalars(
        select(Contact)
        .where(Contact.patrol_id == patrol.id)
        # What the patrol page shows of each: its needs and its referrals.
        .options(selectinload(Contact.needs), selectinload(Contact.referrals))
        .order_by(Contact.occurred_at.desc(), Contact.id.desc())
        .limit(limit)
    ).all()


@dataclass(frozen=True, slots=True)
class Labels:
    """Labels of codes in one language, for showing a history (retired entries included)."""

    needs: dict[str, str]
    destinations: dict[str, str]


def taxonomy_labels(session: Session, language: str) -> Labels:
    """The labels in `language` ("fr" or "en", as `i18n.current_language()`)."""

    def labels(model: type[Need] | type[ReferralDestination]) -> dict[str, str]:
        label = model.label_en if language == "en" else model.label_fr
        return {code: text for code, text in session.execute(select(model.code, label))}

    return Labels(needs=labels(Need), destinations=labels(ReferralDestination))
