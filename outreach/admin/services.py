"""Administration: associations, zones and taxonomies. Plain functions over a session.

They flush, never commit (the request commits once), and audit every change with its
before and after values. A refused change raises `AdminError` before anything moves;
a uniqueness race lost at the flush is turned into the same error (savepoint).

What stays stable, so that history, reports and exports of past weeks keep working:
- an association's slug (it keys the pseudonyms), a zone's or an entry's code (stored
  on contacts, exported as CSV values and columns, sent by phones): set once, never edited;
- nothing is ever deleted: deactivating (zones, associations) or retiring (needs, materials,
  referral destinations) only hides the entry from what comes next.

A deactivated association: its workers and supervisors can no longer log in (their open
sessions end at once; `User.is_active`), so nothing new is captured for it; its contacts,
patrols and audit entries stay, in the funders' figures and the exports. Reactivating it
lets its active accounts log in again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol, cast

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..audit import Scalar, audit
from ..auth.sessions import revoke_association_sessions
from ..models import Association, Material, Need, ReferralDestination, User, Zone
from ..vocabulary import MATERIAL_CATEGORIES

Direction = Literal["up", "down"]
TaxonomyModel = type[Need] | type[Material] | type[ReferralDestination]
TaxonomyEntry = Need | Material | ReferralDestination


class AdminError(ValueError):
    """A refused change; `field` names the form field the message belongs to."""

    def __init__(self, field: str, message: str | LazyString) -> None:
        super().__init__(str(message))
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class Taxonomy:
    """One editable taxonomy: `slug` in URLs and the audit log, `family` in indicator codes
    and CSV columns (`need.<code>`, `material.<code>`, `referral.<code>`)."""

    slug: str
    model: TaxonomyModel
    family: str


TAXONOMIES: dict[str, Taxonomy] = {
    "needs": Taxonomy("needs", Need, "need"),
    "materials": Taxonomy("materials", Material, "material"),
    "destinations": Taxonomy("destinations", ReferralDestination, "referral"),
}


# --- overview ----------------------------------------------------------------------------


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


def zone_list(session: Session) -> Sequence[Zone]:
    return session.scalars(select(Zone).order_by(Zone.position, Zone.name)).all()


def entries(session: Session, taxonomy: Taxonomy) -> Sequence[TaxonomyEntry]:
    """Active and retired entries, in the order the forms, reports and exports use."""
    model = taxonomy.model
    rows = session.scalars(select(model).order_by(model.position, model.code)).all()
    return cast(Sequence[TaxonomyEntry], rows)  # select() of a union of classes types as Base


def get_entry(session: Session, taxonomy: Taxonomy, code: str) -> TaxonomyEntry | None:
    return cast(TaxonomyEntry | None, session.get(taxonomy.model, code))


# --- shared helpers ----------------------------------------------------------------------


class Positioned(Protocol):
    position: int


def _reorder(items: Sequence[Positioned], item: Positioned, direction: Direction) -> bool:
    """Swap the item with its neighbour and renumber the list 0..n-1 (positions may have
    ties or gaps). False when it is already first (up) or last (down)."""
    ordered = list(items)
    index = ordered.index(item)
    target = index - 1 if direction == "up" else index + 1
    if not 0 <= target < len(ordered):
        return False
    ordered[index], ordered[target] = ordered[target], ordered[index]
    for position, each in enumerate(ordered):
        each.position = position
    return True


def _taken(names: Sequence[str], name: str) -> bool:
    """Case and accents aside (SQLite's lower() knows ASCII only: compare in Python)."""
    return name.casefold() in {other.casefold() for other in names}


def _insert(session: Session, row: object, error: AdminError) -> None:
    """Add and flush in a savepoint: a concurrent insert of the same key is a refusal."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise error from None


def _names(
    session: Session, model: type[Association] | type[Zone], other_than: int | None = None
) -> list[str]:
    """The names in use, for the uniqueness check (the edited row's own name left out)."""
    query = select(model.name)
    if other_than is not None:
        query = query.where(model.id != other_than)
    return list(session.scalars(query))


def _next_position(session: Session, model: type[Zone] | TaxonomyModel) -> int:
    return (session.scalar(select(func.max(model.position))) or 0) + 1


# --- associations ------------------------------------------------------------------------

SLUG_TAKEN = _l("Cet identifiant est déjà utilisé par une autre association.")
ASSOCIATION_NAME_TAKEN = _l("Une autre association porte déjà ce nom.")


def create_association(session: Session, actor: User, slug: str, name: str) -> Association:
    """Slug and name checked by the form (format); here: both unique."""
    if session.scalar(select(Association.id).where(Association.slug == slug)) is not None:
        raise AdminError("slug", SLUG_TAKEN)
    if _taken(_names(session, Association), name):
        raise AdminError("name", ASSOCIATION_NAME_TAKEN)
    association = Association(slug=slug, name=name, active=True)
    _insert(session, association, AdminError("slug", SLUG_TAKEN))
    audit(
        session,
        "association.created",
        actor=actor,
        association_id=association.id,
        slug=slug,
        name=name,
    )
    return association


def rename_association(session: Session, actor: User, association: Association, name: str) -> bool:
    """False when the name is unchanged (nothing audited)."""
    if name == association.name:
        return False
    if _taken(_names(session, Association, other_than=association.id), name):
        raise AdminError("name", ASSOCIATION_NAME_TAKEN)
    previous, association.name = association.name, name
    session.flush()
    audit(
        session,
        "association.renamed",
        actor=actor,
        association_id=association.id,
        slug=association.slug,
        name_before=previous,
        name=name,
    )
    return True


def set_association_active(
    session: Session, actor: User, association: Association, active: bool, now: datetime
) -> bool:
    """Deactivating ends its members' sessions at once (see the module's docstring)."""
    if association.active == active:
        return False
    association.active = active
    ended = (
        0
        if active
        else revoke_association_sessions(session, association.id, "association_deactivated", now)
    )
    session.flush()
    audit(
        session,
        "association.reactivated" if active else "association.deactivated",
        actor=actor,
        association_id=association.id,
        slug=association.slug,
        sessions_ended=ended,
    )
    return True


# --- zones -------------------------------------------------------------------------------

ZONE_CODE_TAKEN = _l("Ce code est déjà celui d'une autre zone.")
ZONE_NAME_TAKEN = _l("Une autre zone porte déjà ce nom.")


def create_zone(session: Session, actor: User, code: str, name: str, departement: str) -> Zone:
    """A new active zone, last in the order."""
    if session.scalar(select(Zone.id).where(Zone.code == code)) is not None:
        raise AdminError("code", ZONE_CODE_TAKEN)
    if _taken(_names(session, Zone), name):
        raise AdminError("name", ZONE_NAME_TAKEN)
    zone = Zone(
        code=code,
        name=name,
        departement=departement,
        position=_next_position(session, Zone),
        active=True,
    )
    _insert(session, zone, AdminError("code", ZONE_CODE_TAKEN))
    audit(session, "zone.created", actor=actor, zone=code, name=name, departement=departement)
    return zone


def _details(details: dict[str, Scalar]) -> dict[str, Any]:
    """Audit details built as a dict: typed for `audit`'s **details (none of its keys is
    `actor` or `association_id`)."""
    return details


def update_zone(session: Session, actor: User, zone: Zone, name: str, departement: str) -> bool:
    """Rename and/or move to another département; False when nothing changed."""
    if (name, departement) == (zone.name, zone.departement):
        return False
    if _taken(_names(session, Zone, other_than=zone.id), name):
        raise AdminError("name", ZONE_NAME_TAKEN)
    name_before, departement_before = zone.name, zone.departement
    zone.name, zone.departement = name, departement
    session.flush()
    audit(
        session,
        "zone.changed",
        actor=actor,
        zone=zone.code,
        name=name,
        departement=departement,
        name_before=name_before,
        departement_before=departement_before,
    )
    return True


def move_zone(session: Session, actor: User, zone: Zone, direction: Direction) -> bool:
    previous = zone.position
    if not _reorder(zone_list(session), zone, direction):
        return False
    session.flush()
    audit(
        session,
        "zone.moved",
        actor=actor,
        zone=zone.code,
        direction=direction,
        position_before=previous,
        position=zone.position,
    )
    return True


def set_zone_active(session: Session, actor: User, zone: Zone, active: bool) -> bool:
    """An inactive zone leaves the capture forms; its contacts and patrols stay as they are."""
    if zone.active == active:
        return False
    zone.active = active
    session.flush()
    audit(
        session, "zone.reactivated" if active else "zone.deactivated", actor=actor, zone=zone.code
    )
    return True


# --- taxonomies --------------------------------------------------------------------------

ENTRY_CODE_TAKEN = _l("Ce code existe déjà dans cette liste (peut-être retiré).")
ENTRY_LABEL_TAKEN = _l("Une autre entrée de cette liste porte déjà ce libellé.")


def _labels(
    session: Session, taxonomy: Taxonomy, column: str, other_than: str | None = None
) -> list[str]:
    model = taxonomy.model
    query = select(getattr(model, column))
    if other_than is not None:
        query = query.where(model.code != other_than)
    return list(session.scalars(query))


def _check_labels(
    session: Session, taxonomy: Taxonomy, label_fr: str, label_en: str, other_than: str | None
) -> None:
    """Two chips with the same label on the capture form would be a trap."""
    if _taken(_labels(session, taxonomy, "label_fr", other_than), label_fr):
        raise AdminError("label_fr", ENTRY_LABEL_TAKEN)
    if _taken(_labels(session, taxonomy, "label_en", other_than), label_en):
        raise AdminError("label_en", ENTRY_LABEL_TAKEN)


def add_entry(
    session: Session,
    actor: User,
    taxonomy: Taxonomy,
    code: str,
    label_fr: str,
    label_en: str,
    category: str | None = None,
) -> TaxonomyEntry:
    """A new active entry, last in the order. `category`: materials only (form-checked)."""
    if get_entry(session, taxonomy, code) is not None:
        raise AdminError("code", ENTRY_CODE_TAKEN)
    if (taxonomy.model is Material) != (category in MATERIAL_CATEGORIES):
        raise AdminError("category", _l("Choisissez une catégorie."))
    _check_labels(session, taxonomy, label_fr, label_en, None)
    position = _next_position(session, taxonomy.model)
    entry: TaxonomyEntry
    if taxonomy.model is Material:
        entry = Material(
            code=code,
            label_fr=label_fr,
            label_en=label_en,
            category=category,
            position=position,
            active=True,
        )
    else:
        entry = taxonomy.model(
            code=code, label_fr=label_fr, label_en=label_en, position=position, active=True
        )
    _insert(session, entry, AdminError("code", ENTRY_CODE_TAKEN))
    audit(
        session,
        "taxonomy.added",
        actor=actor,
        taxonomy=taxonomy.slug,
        entry=code,
        label_fr=label_fr,
        label_en=label_en,
        **_details({"category": category} if category is not None else {}),
    )
    return entry


def relabel_entry(
    session: Session,
    actor: User,
    taxonomy: Taxonomy,
    entry: TaxonomyEntry,
    label_fr: str,
    label_en: str,
    category: str | None = None,
) -> bool:
    """New labels (and, for a material, category); the code never changes. False if same."""
    current_category = entry.category if isinstance(entry, Material) else None
    if current_category is None or category not in MATERIAL_CATEGORIES:
        category = current_category
    if (label_fr, label_en, category) == (entry.label_fr, entry.label_en, current_category):
        return False
    _check_labels(session, taxonomy, label_fr, label_en, entry.code)
    details: dict[str, Scalar] = {
        "label_fr_before": entry.label_fr,
        "label_fr": label_fr,
        "label_en_before": entry.label_en,
        "label_en": label_en,
    }
    entry.label_fr, entry.label_en = label_fr, label_en
    if isinstance(entry, Material) and category != entry.category:
        details |= {"category_before": entry.category, "category": category}
        entry.category = str(category)
    session.flush()
    audit(
        session,
        "taxonomy.relabelled",
        actor=actor,
        taxonomy=taxonomy.slug,
        entry=entry.code,
        **_details(details),
    )
    return True


def move_entry(
    session: Session, actor: User, taxonomy: Taxonomy, entry: TaxonomyEntry, direction: Direction
) -> bool:
    previous = entry.position
    if not _reorder(entries(session, taxonomy), entry, direction):
        return False
    session.flush()
    audit(
        session,
        "taxonomy.moved",
        actor=actor,
        taxonomy=taxonomy.slug,
        entry=entry.code,
        direction=direction,
        position_before=previous,
        position=entry.position,
    )
    return True


def set_entry_active(
    session: Session, actor: User, taxonomy: Taxonomy, entry: TaxonomyEntry, active: bool
) -> bool:
    """Retire (or restore): gone from the capture form and the API's options, refused for
    new contacts; past contacts, reports and exports keep it."""
    if entry.active == active:
        return False
    entry.active = active
    session.flush()
    audit(
        session,
        "taxonomy.restored" if active else "taxonomy.retired",
        actor=actor,
        taxonomy=taxonomy.slug,
        entry=entry.code,
    )
    return True
