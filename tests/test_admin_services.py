"""Administration services without HTTP: associations, zones, taxonomies, their audit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from config import get_settings
from outreach.admin.services import (
    TAXONOMIES,
    AdminError,
    _insert,
    add_entry,
    create_association,
    create_zone,
    entries,
    get_entry,
    move_entry,
    move_zone,
    relabel_entry,
    rename_association,
    set_association_active,
    set_entry_active,
    set_zone_active,
    update_zone,
    zone_list,
)
from outreach.auth.sessions import resolve_session, start_session
from outreach.clock import now_utc
from outreach.extensions import db
from outreach.models import Association, AuditEntry, Material, Need, User, UserSession
from outreach.reports.csv_export import contacts_header
from outreach.reports.services import load_registry

from .conftest import World

NEEDS = TAXONOMIES["needs"]
MATERIALS = TAXONOMIES["materials"]


@pytest.fixture
def session(app: Flask, world: World) -> Iterator[Session]:
    with app.app_context():
        yield db.session


def admin(session: Session, world: World) -> User:
    user = session.get(User, world.id_of("admin"))
    assert user is not None
    return user


def audited(session: Session, action: str) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


# --- associations ------------------------------------------------------------------------


def test_create_an_association_audited_with_its_values(session: Session, world: World) -> None:
    association = create_association(session, admin(session, world), "aurore-paris", "Aurore")
    assert association.id and association.active
    [entry] = audited(session, "association.created")
    assert entry.association_id == association.id
    assert entry.actor_id == world.id_of("admin")
    assert entry.details == {"slug": "aurore-paris", "name": "Aurore"}


def test_slug_and_name_must_be_unique(session: Session, world: World) -> None:
    actor = admin(session, world)
    with pytest.raises(AdminError) as taken:
        create_association(session, actor, "demo", "Une autre")
    assert taken.value.field == "slug"
    assert "déjà utilisé" in str(taken.value.message)
    with pytest.raises(AdminError) as same_name:
        create_association(session, actor, "autre-demo", "maraude démo")  # case aside
    assert same_name.value.field == "name"
    assert session.scalars(select(Association.slug)).all() == ["demo", "other"]
    assert not audited(session, "association.created")


def test_a_lost_race_is_a_refusal_and_the_request_goes_on(session: Session, world: World) -> None:
    """Another admin inserted the same slug between the check and the flush: the insert
    fails inside its savepoint only, and the session (the request) carries on."""
    before = session.scalars(select(Association.slug).order_by(Association.slug)).all()
    with pytest.raises(AdminError) as error:
        _insert(session, Association(slug="demo", name="Doublon"), AdminError("slug", "pris"))
    assert error.value.field == "slug"
    assert session.scalars(select(Association.slug).order_by(Association.slug)).all() == before
    assert create_association(session, admin(session, world), "suite", "La suite").id


def test_rename_keeps_the_slug_and_audits_before_and_after(session: Session, world: World) -> None:
    association = session.get(Association, world.demo.id)
    assert association is not None
    assert rename_association(session, admin(session, world), association, "Maraude Nord")
    assert (association.slug, association.name) == ("demo", "Maraude Nord")
    [entry] = audited(session, "association.renamed")
    assert entry.details == {"slug": "demo", "name_before": "Maraude Démo", "name": "Maraude Nord"}
    assert not rename_association(session, admin(session, world), association, "Maraude Nord")
    assert len(audited(session, "association.renamed")) == 1


def test_deactivating_an_association_ends_its_members_sessions_and_logins(
    session: Session, world: World, app: Flask
) -> None:
    settings = get_settings(app)
    now = now_utc()
    worker = session.get(User, world.id_of("worker"))
    other = session.get(User, world.id_of("other_worker"))
    assert worker is not None and other is not None
    worker_token = start_session(session, worker, now)
    other_token = start_session(session, other, now)
    association = session.get(Association, world.demo.id)
    assert association is not None

    assert set_association_active(session, admin(session, world), association, False, now)
    session.expire_all()
    assert not worker.is_active and worker.active  # the account itself is untouched
    assert resolve_session(session, settings, worker_token, now) is None
    assert resolve_session(session, settings, other_token, now) is not None
    revoked = session.scalars(
        select(UserSession.revoked_reason).where(UserSession.user_id == worker.id)
    ).all()
    assert revoked == ["association_deactivated"]
    [entry] = audited(session, "association.deactivated")
    assert entry.association_id == world.demo.id and entry.details["sessions_ended"] == 1

    assert set_association_active(session, admin(session, world), association, True, now)
    session.expire_all()
    assert worker.is_active
    assert not set_association_active(session, admin(session, world), association, True, now)
    assert len(audited(session, "association.reactivated")) == 1


# --- zones -------------------------------------------------------------------------------


def test_create_update_and_deactivate_a_zone(session: Session, world: World) -> None:
    actor = admin(session, world)
    zone = create_zone(session, actor, "la_villette", "La Villette", "75")
    assert zone.position == max(z.position for z in zone_list(session))
    assert zone_list(session)[-1] is zone
    with pytest.raises(AdminError) as taken:
        create_zone(session, actor, "la_villette", "Ailleurs", "93")
    assert taken.value.field == "code"
    with pytest.raises(AdminError) as same_name:
        create_zone(session, actor, "villette_bis", "la villette", "93")
    assert same_name.value.field == "name"

    assert update_zone(session, actor, zone, "Parc de la Villette", "93")
    [changed] = audited(session, "zone.changed")
    assert changed.details == {
        "zone": "la_villette",
        "name_before": "La Villette",
        "name": "Parc de la Villette",
        "departement_before": "75",
        "departement": "93",
    }
    assert not update_zone(session, actor, zone, "Parc de la Villette", "93")
    assert set_zone_active(session, actor, zone, False) and not zone.active
    assert not set_zone_active(session, actor, zone, False)
    assert [e.details for e in audited(session, "zone.deactivated")] == [{"zone": "la_villette"}]


def test_moving_renumbers_and_stops_at_the_ends(session: Session, world: World) -> None:
    actor = admin(session, world)
    for zone in zone_list(session):
        zone.position = 0  # ties: the order falls back on the name
    session.flush()
    names = [zone.name for zone in zone_list(session)]
    second = zone_list(session)[1]
    assert move_zone(session, actor, second, "up")
    assert [zone.name for zone in zone_list(session)] == [names[1], names[0], *names[2:]]
    assert [zone.position for zone in zone_list(session)] == list(range(len(names)))
    assert not move_zone(session, actor, second, "up")  # already first
    last = zone_list(session)[-1]
    assert not move_zone(session, actor, last, "down")
    [entry] = audited(session, "zone.moved")
    assert entry.details == {
        "zone": second.code,
        "direction": "up",
        "position_before": 0,
        "position": 0,
    }


# --- taxonomies --------------------------------------------------------------------------


def test_add_a_need_last_and_a_material_with_its_category(session: Session, world: World) -> None:
    actor = admin(session, world)
    need = add_entry(session, actor, NEEDS, "phone_charge", "Recharge de téléphone", "Phone charge")
    assert entries(session, NEEDS)[-1] is need and need.active
    material = add_entry(
        session, actor, MATERIALS, "foil", "Feuille d'aluminium", "Foil", category="crack"
    )
    assert isinstance(material, Material) and material.category == "crack"
    with pytest.raises(AdminError) as no_category:
        add_entry(session, actor, MATERIALS, "straw", "Paille", "Straw")
    assert no_category.value.field == "category"
    details = [e.details for e in audited(session, "taxonomy.added")]
    assert details == [
        {
            "taxonomy": "needs",
            "entry": "phone_charge",
            "label_fr": "Recharge de téléphone",
            "label_en": "Phone charge",
        },
        {
            "taxonomy": "materials",
            "entry": "foil",
            "label_fr": "Feuille d'aluminium",
            "label_en": "Foil",
            "category": "crack",
        },
    ]


def test_codes_and_labels_are_unique_within_a_list_even_retired(
    session: Session, world: World
) -> None:
    actor = admin(session, world)
    shelter = get_entry(session, NEEDS, "shelter")
    assert shelter is not None
    set_entry_active(session, actor, NEEDS, shelter, False)
    with pytest.raises(AdminError) as taken:
        add_entry(session, actor, NEEDS, "shelter", "Abri", "Shelter again")
    assert taken.value.field == "code" and "retiré" in str(taken.value.message)
    with pytest.raises(AdminError) as label:
        add_entry(session, actor, NEEDS, "meal", "alimentation", "Meal")
    assert label.value.field == "label_fr"
    # "other" is a need and a destination: codes are unique per list only.
    assert add_entry(session, actor, TAXONOMIES["destinations"], "food", "Épicerie", "Grocery")


def test_relabel_keeps_the_code_and_audits_before_and_after(session: Session, world: World) -> None:
    actor = admin(session, world)
    kit = get_entry(session, MATERIALS, "kit_base")
    assert isinstance(kit, Material)
    assert relabel_entry(session, actor, MATERIALS, kit, "Kit crack", "Crack kit", "other")
    assert (kit.code, kit.label_fr, kit.label_en, kit.category) == (
        "kit_base",
        "Kit crack",
        "Crack kit",
        "other",
    )
    [entry] = audited(session, "taxonomy.relabelled")
    assert entry.details == {
        "taxonomy": "materials",
        "entry": "kit_base",
        "label_fr_before": "Kit base",
        "label_fr": "Kit crack",
        "label_en_before": "Crack smoking kit",
        "label_en": "Crack kit",
        "category_before": "crack",
        "category": "other",
    }
    assert not relabel_entry(session, actor, MATERIALS, kit, "Kit crack", "Crack kit", "other")
    with pytest.raises(AdminError) as label:
        relabel_entry(session, actor, MATERIALS, kit, "Pipe / doseur", "Crack kit", "other")
    assert label.value.field == "label_fr"


def test_reorder_and_retire_an_entry(session: Session, world: World) -> None:
    actor = admin(session, world)
    food = get_entry(session, NEEDS, "food")
    assert food is not None
    codes = [need.code for need in entries(session, NEEDS)]
    assert codes[:2] == ["shelter", "food"]
    assert move_entry(session, actor, NEEDS, food, "up")
    assert [need.code for need in entries(session, NEEDS)][:2] == ["food", "shelter"]
    assert not move_entry(session, actor, NEEDS, food, "up")
    assert set_entry_active(session, actor, NEEDS, food, False)
    assert session.get(Need, "food") is food and not food.active  # retired, never deleted
    assert set_entry_active(session, actor, NEEDS, food, True)
    actions = [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions == ["taxonomy.moved", "taxonomy.retired", "taxonomy.restored"]


def test_no_code_can_make_two_export_columns_collide(session: Session, world: World) -> None:
    """Columns are `<family>.<code>` and codes hold no dot: a code named like a fixed column
    (or like the same code in another list) still gets its own column."""
    actor = admin(session, world)
    fixed = [*contacts_header(load_registry(session))[:11], "referrals"]
    for code in ("id", "zone", "referrals", "contacts", "shelter_115"):
        add_entry(session, actor, NEEDS, code, f"Besoin {code}", f"Need {code}")
        add_entry(session, actor, TAXONOMIES["destinations"], f"{code}_x", f"D {code}", f"D {code}")
    header = contacts_header(load_registry(session))
    assert len(header) == len(set(header))
    assert set(fixed) <= set(header) and "need.referrals" in header
    assert not any("." in entry.code for entry in session.scalars(select(Need)))
