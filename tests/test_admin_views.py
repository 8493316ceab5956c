"""Admin journeys through the test client: associations, zones, taxonomies; errors tied to
their fields, never a 500; unknown ids 404; every change audited; admins only."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from outreach.extensions import db
from outreach.models import Association, AuditEntry, Material, Need, Zone

from .conftest import PASSWORD, AuthActions, World, text_of
from .support import field_error


@pytest.fixture
def admin(auth: AuthActions, world: World) -> AuthActions:
    auth.login_as(world, "admin")
    return auth


def post(admin: AuthActions, path: str, page: str | None = None, **data: str) -> TestResponse:
    """Post as the page would: with the CSRF token of the page the form is on."""
    token = admin.page_token(page or path)
    return admin.client.post(path, data={"csrf_token": token, **data})


ADMIN_ACTIONS = ("association.", "zone.", "taxonomy.", "user.")


def actions(app: Flask) -> list[tuple[str, int | None]]:
    """The audited administration changes (not the logins around them), oldest first."""
    with app.app_context():
        return [
            (entry.action, entry.actor_id)
            for entry in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))
            if entry.action.startswith(ADMIN_ACTIONS)
        ]


def count(app: Flask, model: type[Association] | type[Zone] | type[Need]) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_the_overview_links_every_admin_page(admin: AuthActions) -> None:
    page = text_of(admin.client.get("/admin"))
    for path in (
        "/admin/associations",
        "/accounts",
        "/admin/zones",
        "/admin/taxonomies/needs",
        "/admin/taxonomies/materials",
        "/admin/taxonomies/destinations",
        "/summary/targets",
        "/audit",
    ):
        assert f'href="{path}"' in page, path
        assert admin.client.get(path).status_code == 200, path


def test_association_journey(app: Flask, admin: AuthActions, world: World) -> None:
    page = "/admin/associations"
    bad = post(admin, page, slug="Aurore Paris!", name="  ")
    assert bad.status_code == 422
    text = text_of(bad)
    assert field_error(text, "slug").startswith("Minuscules sans accent, chiffres et tirets")
    assert field_error(text, "name") == "Indiquez le nom de l'association."
    assert '<details class="add-form" open>' in text  # the form stays open on its errors
    taken = post(admin, page, slug="DEMO", name="Encore")  # typed in capitals: still "demo"
    assert taken.status_code == 422
    assert field_error(text_of(taken), "slug") == (
        "Cet identifiant est déjà utilisé par une autre association."
    )
    assert count(app, Association) == 2

    created = post(admin, page, slug="aurore-paris", name="Aurore")
    assert created.status_code == 302
    with app.app_context():
        aurore = db.session.scalars(select(Association).where(Association.slug == "aurore-paris"))
        aurore_id = aurore.one().id
    assert created.location == f"/admin/associations#association-{aurore_id}"
    listing = text_of(admin.client.get(page))
    assert "Association « Aurore » créée." in listing and "aurore-paris" in listing

    edit = f"/admin/associations/{aurore_id}"
    assert 'value="Aurore"' in text_of(admin.client.get(edit))
    same = post(admin, edit, name="Maraude Démo")
    assert same.status_code == 422
    assert field_error(text_of(same), "name") == "Une autre association porte déjà ce nom."
    assert post(admin, edit, name="Aurore Paris Nord").status_code == 302
    with app.app_context():
        renamed = db.session.get(Association, aurore_id)
        assert renamed is not None
        assert (renamed.slug, renamed.name) == ("aurore-paris", "Aurore Paris Nord")
    assert actions(app) == [
        ("association.created", world.id_of("admin")),
        ("association.renamed", world.id_of("admin")),
    ]


def test_a_deactivated_association_cannot_log_in_but_keeps_its_history(
    app: Flask, admin: AuthActions, world: World
) -> None:
    worker = AuthActions(app.test_client())
    worker.login_as(world, "worker")
    assert worker.client.get("/patrols").status_code == 200

    toggle = f"/admin/associations/{world.demo.id}/active"
    done = post(admin, toggle, "/admin/associations", active="0")
    assert done.status_code == 302
    listing = text_of(admin.client.get("/admin/associations"))
    assert "ses comptes ne peuvent plus se connecter" in listing
    assert re.search(r'<strong>Maraude Démo</strong> <span class="tag">désactivée</span>', listing)

    # Its open session ends at once, and it cannot log in again; the other association can.
    assert worker.client.get("/patrols").status_code == 302
    assert worker.login(world.users["worker"].email, PASSWORD).status_code == 401
    other = AuthActions(app.test_client())
    other.login_as(world, "other_worker")
    # Its history stays: the association still shows in the funders' summary.
    funder = AuthActions(app.test_client())
    funder.login_as(world, "funder")
    assert "Maraude Démo" in text_of(funder.client.get("/summary"))
    # It cannot receive new accounts while deactivated.
    new_account = text_of(admin.client.get("/accounts/new"))
    assert "Autre Association" in new_account and "Maraude Démo" not in new_account

    assert post(admin, toggle, "/admin/associations", active="1").status_code == 302
    assert worker.login(world.users["worker"].email, PASSWORD).status_code == 302
    assert [action for action, _ in actions(app)] == [
        "association.deactivated",
        "association.reactivated",
    ]


def test_zone_journey(app: Flask, admin: AuthActions, world: World) -> None:
    page = "/admin/zones"
    zones_before = count(app, Zone)
    bad = post(admin, page, code="la villette", name="La Villette", departement="13")
    assert bad.status_code == 422
    text = text_of(bad)
    assert "Lettres minuscules sans accent" in field_error(text, "code")
    assert field_error(text, "departement") == "N'est pas un choix valide."
    assert count(app, Zone) == zones_before

    created = post(admin, page, code="La_Villette", name="La Villette", departement="75")
    assert created.status_code == 302
    with app.app_context():
        zone = db.session.scalars(select(Zone).where(Zone.code == "la_villette")).one()
        zone_id, last_position = zone.id, zone.position
        assert last_position == max(db.session.scalars(select(Zone.position)))
    listing = text_of(admin.client.get(page))
    assert "Zone « La Villette » créée." in listing
    assert 'aria-label="Descendre : La Villette" disabled' in listing  # last: cannot go down

    assert post(admin, f"/admin/zones/{zone_id}/move", page, direction="up").status_code == 302
    assert post(admin, f"/admin/zones/{zone_id}/move", page, direction="sideways").status_code == (
        422
    )
    edit = f"/admin/zones/{zone_id}"
    assert post(admin, edit, name="Parc de la Villette", departement="93").status_code == 302
    assert post(admin, f"{edit}/active", page, active="0").status_code == 302
    with app.app_context():
        zone = db.session.get(Zone, zone_id)
        assert zone is not None
        assert (zone.name, zone.departement, zone.active) == ("Parc de la Villette", "93", False)
        assert zone.position == last_position - 1
    assert [action for action, _ in actions(app)] == [
        "zone.created",
        "zone.moved",
        "zone.changed",
        "zone.deactivated",
    ]


def test_taxonomy_journey(app: Flask, admin: AuthActions, world: World) -> None:
    page = "/admin/taxonomies/materials"
    listing = text_of(admin.client.get(page))
    assert "Kit base" in listing and "Crack smoking kit" in listing
    assert 'name="category"' in listing  # materials have a category

    bad = post(admin, page, code="foil.x", label_fr="Pipe / doseur", label_en="", category="")
    assert bad.status_code == 422
    text = text_of(bad)
    assert "Lettres minuscules sans accent" in field_error(text, "code")
    assert field_error(text, "label_en") == "Indiquez le libellé en anglais."
    assert field_error(text, "category") == "Choisissez une catégorie."
    taken = post(admin, page, code="kit_base", label_fr="Kit", label_en="Kit", category="crack")
    assert field_error(text_of(taken), "code") == (
        "Ce code existe déjà dans cette liste (peut-être retiré)."
    )

    added = post(admin, page, code="foil", label_fr="Aluminium", label_en="Foil", category="crack")
    assert added.status_code == 302 and added.location == f"{page}#entry-foil"
    edit = f"{page}/foil"
    assert 'value="Aluminium"' in text_of(admin.client.get(edit))
    relabelled = post(
        admin, edit, label_fr="Feuille d'aluminium", label_en="Foil sheet", category="other"
    )
    assert relabelled.status_code == 302
    assert post(admin, f"{edit}/move", page, direction="up").status_code == 302
    assert post(admin, f"{edit}/active", page, active="0").status_code == 302
    with app.app_context():
        foil = db.session.get(Material, "foil")
        assert foil is not None
        assert (foil.label_fr, foil.label_en, foil.category, foil.active) == (
            "Feuille d'aluminium",
            "Foil sheet",
            "other",
            False,
        )
    listing = text_of(admin.client.get(page))
    assert re.search(
        r'<strong>Feuille d\'aluminium</strong> <span class="tag">retiré</span>', listing
    )
    assert "Rétablir : Feuille d&#39;aluminium" in admin.client.get(page).get_data(as_text=True)
    assert [action for action, _ in actions(app)] == [
        "taxonomy.added",
        "taxonomy.relabelled",
        "taxonomy.moved",
        "taxonomy.retired",
    ]
    log = text_of(admin.client.get("/audit"))
    assert "Entrée de liste retirée" in log and "entry=foil" in log


def test_needs_have_no_category_and_destinations_their_own_codes(admin: AuthActions) -> None:
    needs = text_of(admin.client.get("/admin/taxonomies/needs"))
    assert 'name="category"' not in needs and "Mise à l'abri / hébergement" in needs
    added = post(
        admin, "/admin/taxonomies/destinations", code="food", label_fr="Épicerie", label_en="Shop"
    )
    assert added.status_code == 302  # "food" is a need: destinations are another list


def test_unknown_ids_and_codes_answer_404(admin: AuthActions) -> None:
    token = admin.page_token("/admin/zones")
    for path in (
        "/admin/associations/999999",
        "/admin/associations/99999999999999999999",
        "/admin/zones/999999",
        "/admin/zones/99999999999999999999",
        "/admin/taxonomies/people",
        "/admin/taxonomies/needs/nope",
        "/admin/taxonomies/needs/%00",
        "/admin/taxonomies/needs/" + "x" * 300,
        "/admin/taxonomies/needs/Shelter",
    ):
        assert admin.client.get(path).status_code == 404, path
    for path in (
        "/admin/zones/999999/move",
        "/admin/taxonomies/needs/nope/active",
        "/admin/taxonomies/people/shelter/move",
        "/admin/associations/99999999999999999999/active",
    ):
        response = admin.client.post(path, data={"csrf_token": token, "active": "0"})
        assert response.status_code == 404, path


def test_a_one_button_form_with_garbage_changes_nothing(app: Flask, admin: AuthActions) -> None:
    response = post(
        admin, "/admin/taxonomies/needs/shelter/active", "/admin/taxonomies/needs", active="maybe"
    )
    assert response.status_code == 422
    assert "Action inconnue : rechargez la page." in text_of(response)
    with app.app_context():
        shelter = db.session.get(Need, "shelter")
        assert shelter is not None and shelter.active
    assert actions(app) == []


@pytest.mark.parametrize("role", ["worker", "supervisor", "funder"])
def test_only_admins(client: FlaskClient, auth: AuthActions, world: World, role: str) -> None:
    auth.login_as(world, role)
    token = auth.page_token()
    for path in ("/admin/associations", "/admin/zones", "/admin/taxonomies/needs"):
        assert client.get(path).status_code == 403
        assert client.post(path, data={"csrf_token": token}).status_code == 403
    response = client.post(
        "/admin/taxonomies/needs/shelter/active", data={"csrf_token": token, "active": "0"}
    )
    assert response.status_code == 403
