"""Retiring a need (material, destination, zone) keeps old contacts and old exports correct,
and takes it out of what comes next: the capture form, the API's options, new contacts."""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from config import Settings
from outreach.capture.validation import CaptureOptions, validate_contact
from outreach.clock import iso_week_of, now_utc
from outreach.extensions import db
from outreach.models import Association, Contact, ContactNeed, User, Zone

from .conftest import AuthActions, World, csrf_token_of, recorded_statements, text_of
from .reports_fixtures import add_contact, paris
from .support import Api, contact, open_form, read_csv, start, typical

PAST_WEEK = "2026-W14"


def as_admin(app: Flask, world: World) -> AuthActions:
    admin = AuthActions(app.test_client())
    admin.login_as(world, "admin")
    return admin


def retire(admin: AuthActions, path: str) -> None:
    """Press "Retirer" (or "Désactiver") on an admin list, as the page offers it."""
    kind_page = path.rsplit("/", 1)[0] if "/taxonomies/" in path else "/admin/zones"
    token = admin.page_token(kind_page)
    response = admin.client.post(f"{path}/active", data={"csrf_token": token, "active": "0"})
    assert response.status_code == 302, text_of(response)


def contacts_needing(app: Flask, need: str) -> list[str]:
    with app.app_context():
        return [
            str(client_id)
            for client_id in db.session.scalars(
                select(Contact.client_id)
                .join(ContactNeed)
                .where(ContactNeed.need_code == need)
                .order_by(Contact.id)
            )
        ]


def export_rows(client: FlaskClient, week: str) -> list[dict[str, str]]:
    response = client.get(
        "/reports/associations/demo/export/contacts.csv", query_string={"week": week}
    )
    assert response.status_code == 200
    header, *rows = read_csv(response.data)
    return [dict(zip(header, row, strict=True)) for row in rows]


def test_retiring_a_need_keeps_old_contacts_and_exports_and_refuses_it_for_new_ones(
    app: Flask, world: World, settings: Settings
) -> None:
    # A past week's contact (written as the capture stores it) and two of this week (API).
    with app.app_context():
        demo = db.session.get(Association, world.demo.id)
        worker = db.session.get(User, world.id_of("worker"))
        assert demo and worker
        add_contact(db.session, settings, demo, worker, paris(2026, 4, 1, 22), needs=["rest"])
        db.session.commit()
    worker_client = app.test_client()
    api = Api(worker_client, AuthActions(worker_client))
    api.login(world, "worker")
    bodies = [contact(needs=["rest", "food"]), contact(needs=["rest"])]
    assert [api.post(body).status_code for body in bodies] == [201, 201]
    before = contacts_needing(app, "rest")
    assert len(before) == 3

    admin = as_admin(app, world)
    retire(admin, "/admin/taxonomies/needs/rest")
    page = text_of(admin.client.get("/admin/taxonomies/needs"))
    assert re.search(r'id="entry-rest" class="inactive">\s*<strong>Repos</strong> <span', page)

    # Old contacts keep it.
    assert contacts_needing(app, "rest") == before

    # The exports of the past week and of this week keep the column, with their 1s.
    supervisor = AuthActions(app.test_client())
    supervisor.login_as(world, "supervisor")
    [past] = export_rows(supervisor.client, PAST_WEEK)
    assert past["need.rest"] == "1"
    current = {row["id"]: row for row in export_rows(supervisor.client, iso_week_of(now_utc()))}
    assert {current[body["id"]]["need.rest"] for body in bodies} == {"1"}
    assert current[bodies[0]["id"]]["need.food"] == "1"
    # The dashboard of the past week still shows it, with its count.
    dashboard = text_of(
        supervisor.client.get("/reports/associations/demo", query_string={"week": PAST_WEEK})
    )
    assert "Repos" in dashboard

    # Gone from what comes next: the form, the API's options; refused for a new contact.
    patrol_id = start(worker_client, api.auth, app, world)
    form_page = text_of(worker_client.get(f"/patrols/{patrol_id}/contacts/new"))
    assert 'value="rest"' not in form_page and 'value="food"' in form_page
    options = worker_client.get("/api/v1/form-options").get_json()
    assert "rest" not in {need["code"] for need in options["needs"]}
    refused = api.post(contact(needs=["rest"]))
    assert refused.status_code == 422
    assert refused.get_json()["errors"] == {"needs": ["Besoin retiré, plus proposé : Repos."]}
    posted = worker_client.post(
        f"/patrols/{patrol_id}/contacts/new",
        data=typical(open_form(worker_client, patrol_id), needs=["rest"]),
    )
    assert posted.status_code == 422
    assert "Besoin retiré, plus proposé : Repos." in text_of(posted)

    # A phone replaying a contact it sent before the retirement is answered as before.
    replay = api.post(bodies[1])
    assert replay.status_code == 200 and replay.get_json()["status"] == "unchanged"
    assert contacts_needing(app, "rest") == before


def test_a_contact_being_corrected_keeps_its_retired_need(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    auth.login_as(world, "worker")
    patrol_id = start(client, auth, app, world)
    form = open_form(client, patrol_id)
    assert client.post(f"/patrols/{patrol_id}/contacts/new", data=typical(form)).status_code == 302
    with app.app_context():
        contact_id = db.session.scalars(select(Contact.id)).one()

    retire(as_admin(app, world), "/admin/taxonomies/needs/shelter")
    edit = f"/contacts/{contact_id}/edit"
    page = text_of(client.get(edit))
    assert re.search(r'value="shelter" checked', page), "the retired need stays ticked"
    token = csrf_token_of(client.get(edit))
    corrected = typical({**form, "csrf_token": token}, gender="male")
    assert client.post(edit, data=corrected).status_code == 302
    assert contacts_needing(app, "shelter") == [form["id"]]
    with app.app_context():
        assert db.session.scalars(select(Contact.gender)).one() == "male"


def test_retired_materials_destinations_and_zones_are_refused_for_new_contacts(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    api = Api(client, auth)
    api.login(world, "worker")
    old = contact(zone="pantin", materials={"naloxone": 1}, referrals=[{"destination": "pass"}])
    assert api.post(old).status_code == 201

    admin = as_admin(app, world)
    retire(admin, "/admin/taxonomies/materials/naloxone")
    retire(admin, "/admin/taxonomies/destinations/pass")
    with app.app_context():
        pantin = db.session.scalars(select(Zone.id).where(Zone.code == "pantin")).one()
    retire(admin, f"/admin/zones/{pantin}")

    refused = api.post(
        contact(zone="pantin", materials={"naloxone": 1}, referrals=old["referrals"])
    )
    assert refused.status_code == 422
    assert refused.get_json()["errors"] == {
        "zone": ["Cette zone n'est plus active : choisissez-en une autre."],
        "materials.naloxone": ["Matériel retiré, plus proposé."],
        "referrals.0.destination": ["Destination retirée, plus proposée : PASS."],
    }
    assert api.post(old).status_code == 200  # the replay of the old one still goes through
    options = client.get("/api/v1/form-options").get_json()
    assert "pantin" not in {zone["code"] for zone in options["zones"]}
    assert "naloxone" not in {item["code"] for item in options["materials"]}
    assert "pass" not in {item["code"] for item in options["destinations"]}
    assert "Pantin" not in text_of(client.get("/patrols/new"))

    # Restored: offered and accepted again.
    token = admin.page_token("/admin/taxonomies/materials")
    restored = admin.client.post(
        "/admin/taxonomies/materials/naloxone/active", data={"csrf_token": token, "active": "1"}
    )
    assert restored.status_code == 302
    assert api.post(contact(materials={"naloxone": 2})).status_code == 201


def test_a_patrol_whose_zone_was_deactivated_asks_for_another_zone(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    auth.login_as(world, "worker")
    patrol_id = start(client, auth, app, world)  # at Stalingrad
    with app.app_context():
        stalingrad = db.session.scalars(select(Zone.id).where(Zone.code == "stalingrad")).one()
    retire(as_admin(app, world), f"/admin/zones/{stalingrad}")
    page = text_of(client.get(f"/patrols/{patrol_id}/contacts/new"))
    assert '<details class="where-when" open>' in page
    assert '<option value="" selected>— choisissez une zone —</option>' in page
    form = open_form(client, patrol_id)
    response = client.post(f"/patrols/{patrol_id}/contacts/new", data=typical(form, zone=""))
    assert response.status_code == 422 and "Choisissez une zone." in text_of(response)
    moved = client.post(
        f"/patrols/{patrol_id}/contacts/new", data=typical(form, zone="jardins_eole")
    )
    assert moved.status_code == 302


def test_validation_refuses_retired_codes_unless_the_contact_already_holds_them() -> None:
    """The rule itself, without HTTP or database: (kind, code) pairs, kept per contact id."""
    body = contact(needs=["other"], materials={}, referrals=[{"destination": "other"}])
    known = CaptureOptions(
        zones={"stalingrad": 1},
        needs=frozenset({"other"}),
        materials=frozenset(),
        destinations=frozenset({"other"}),
        patrols={},
        retired=frozenset({("destination", "other")}),  # "other" is retired as a destination only
    )
    draft, errors = validate_contact(body, known, now_utc())
    assert draft is None and list(errors) == ["referrals.0.destination"]
    held = replace(known, kept={uuid.UUID(body["id"]): frozenset({("destination", "other")})})
    draft, errors = validate_contact(body, held, now_utc())
    assert draft is not None and not errors
    other_contact = {**body, "id": str(uuid.uuid4())}
    assert validate_contact(other_contact, held, now_utc())[0] is None


def test_a_capture_that_uses_no_retired_code_costs_no_lookup_for_them(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    """Once anything was retired, the usual capture still runs the same statements."""
    api = Api(client, auth)
    api.login(world, "worker")

    def statements_of_a_capture(**changes: Any) -> list[str]:
        with recorded_statements(app) as seen:
            assert api.post(contact(**changes)).status_code == 201
        return seen

    before = statements_of_a_capture()
    retire(as_admin(app, world), "/admin/taxonomies/needs/rest")
    after = statements_of_a_capture()
    assert len(after) == len(before), "no lookup of retired codes when none is used"
    # A replay that holds the retired code is still looked up, and still goes through.
    old = contact(needs=["food"])
    assert api.post(old).status_code == 201
    with app.app_context():
        stored = db.session.scalars(
            select(Contact).where(Contact.client_id == uuid.UUID(old["id"]))
        ).one()
        db.session.add(ContactNeed(contact_id=stored.id, need_code="rest"))
        db.session.commit()
    replay = api.post({**old, "needs": ["food", "rest"]})
    assert replay.status_code == 409, replay.get_json()  # held "rest", but the body differs
