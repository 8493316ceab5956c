"""The worker's journey through the test client: the HTML form, without JavaScript."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from outreach.capture.services import start_patrol
from outreach.clock import now_utc
from outreach.extensions import db
from outreach.models import Association, Contact, Patrol, User, Zone

from .conftest import AuthActions, World, text_of
from .support import open_form, start, typical, zone_id


def contact_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Contact.id))) or 0


def test_contact_form_is_prefilled_and_carries_its_uuid(
    client: FlaskClient, auth: AuthActions, app: Flask, world: World
) -> None:
    auth.login_as(world, "worker")
    patrol_id = start(client, auth, app, world)
    form = open_form(client, patrol_id)
    assert re.fullmatch(r"[0-9a-f-]{36}", form["id"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d", form["occurred_at"])
    assert open_form(client, patrol_id)["id"] != form["id"]
    page = text_of(client.get(f"/patrols/{patrol_id}/contacts/new"))
    assert '<option value="stalingrad" selected>' in page


def test_log_a_contact_then_replay_it(
    client: FlaskClient, auth: AuthActions, app: Flask, world: World
) -> None:
    auth.login_as(world, "worker")
    patrol_id = start(client, auth, app, world)
    data = typical(open_form(client, patrol_id))
    response = client.post(f"/patrols/{patrol_id}/contacts/new", data=data)
    assert response.status_code == 302
    assert "Set-Cookie" not in response.headers, "the note is in the address, not the cookie"
    page = text_of(client.get(response.location))
    assert "Contact enregistré." in page
    assert 'data-testid="contact-count">1<' in page
    assert "Nouveau contact" in page

    # Double tap, refresh, back button: the same form again saves nothing new.
    again = client.post(f"/patrols/{patrol_id}/contacts/new", data=data)
    assert again.status_code == 302
    assert "déjà enregistré" in text_of(client.get(again.location))
    assert contact_count(app) == 1

    with app.app_context():
        contact = db.session.scalars(select(Contact)).one()
        assert contact.patrol_id == patrol_id
        assert contact.author_id == world.id_of("worker")
        assert [n.need_code for n in contact.needs] == ["rdr_material", "shelter"]
        assert {m.material_code: m.quantity for m in contact.materials} == {
            "kit_base": 2,
            "filter": 4,
        }
        assert [(r.destination_code, r.accompanied) for r in contact.referrals] == [
            ("shelter_115", True)
        ]


def test_the_save_note_names_a_contact_of_this_patrol_only(
    client: FlaskClient, auth: AuthActions, app: Flask, world: World
) -> None:
    auth.login_as(world, "worker")
    patrol_id = start(client, auth, app, world)
    saved = client.post(
        f"/patrols/{patrol_id}/contacts/new", data=typical(open_form(client, patrol_id))
    )
    contact_id = int(saved.location.rsplit("saved=", 1)[1])
    stalingrad = zone_id(app)
    with app.app_context():  # a second patrol of the association, started by a teammate
        other_patrol = start_patrol(
            db.session,
            db.session.get_one(Association, world.demo.id),
            db.session.get_one(Zone, stalingrad),
            db.session.get_one(User, world.id_of("supervisor")),
            [],
            now_utc(),
        ).id
        db.session.commit()
    for query in (
        "saved=abc",
        "saved=-1",
        f"saved={10**30}",
        "unchanged=0",
        f"saved={contact_id + 1}",
    ):
        page = client.get(f"/patrols/{patrol_id}?{query}")
        assert page.status_code == 200, query
        assert 'class="flash ' not in text_of(page), query
    # Another patrol of the association does not hold it either.
    elsewhere = client.get(f"/patrols/{other_patrol}?saved={contact_id}")
    assert elsewhere.status_code == 200
    assert 'class="flash ' not in text_of(elsewhere)
    note = '<p class="flash flash-info" role="status">Ce contact était déjà enregistré'
    assert note in text_of(client.get(f"/patrols/{patrol_id}?unchanged={contact_id}"))


def test_same_form_id_with_other_answers_is_a_conflict(
    client: FlaskClient, auth: AuthActions, app: Flask, world: World
) -> None:
    auth.login_as(world, "worker")
    patrol_id = start(client, auth, app, world)
    form = open_form(client, patrol_id)
    client.post(f"/patrols/{patrol_id}/contacts/new", data=typical(form))
    response = client.post(f"/patrols/{patrol_id}/contacts/new", data=typical(form, gender="male"))
    assert response.status_code == 409
    assert "déjà été enregistré avec d'autres informations" in text_of(response)
    assert contact_count(app) == 1


def test_bad_input_saves_nothing_and_explains_in_french(
    client: FlaskClient, auth: AuthActions, app: Flask, world: World
) -> None:
    auth.login_as(world, "worker")
    patrol_id = start(client, auth, app, world)
    data = typical(
        open_form(client, patrol_id),
        person_code="Zorglub 1977",
        gender="robot",
        **{"material-kit_base": "1000", "material-filter": "beaucoup"},
        needs=["shelter", "unicorn"],
        zone="atlantis",
    )
    response = client.post(f"/patrols/{patrol_id}/contacts/new", data=data)
    page = text_of(response)
    assert response.status_code == 422
    for message in (
        "Rien n'a été enregistré",
        "Choisissez une zone.",
        "Choix inconnu.",
        "Entre 0 et 999.",
        "Nombre entier attendu.",
        "Besoin inconnu : unicorn.",
    ):
        assert message in page, message
    assert "Zorglub" not in page and "1977" not in page, "the code is never echoed back"
    assert "saisissez-le à nouveau" in page
    assert f'action="/patrols/{patrol_id}/contacts/new"' in page, "the form, for its patrol"
    assert contact_count(app) == 0


def test_empty_time_and_future_time_are_refused(
    client: FlaskClient, auth: AuthActions, app: Flask, world: World
) -> None:
    auth.login_as(world, "worker")
    patrol_id = start(client, auth, app, world)
    form = open_form(client, patrol_id)
    for occurred_at, message in (("", "Indiquez la date"), ("2099-01-01T10:00", "futur")):
        response = client.post(
            f"/patrols/{patrol_id}/contacts/new", data=typical(form, occurred_at=occurred_at)
        )
        assert response.status_code == 422
        assert message in text_of(response)
    assert contact_count(app) == 0


def test_only_the_author_edits_and_only_while_the_patrol_is_open(
    client: FlaskClient, auth: AuthActions, app: Flask, world: World
) -> None:
    auth.login_as(world, "worker")
    patrol_id = start(client, auth, app, world)
    form = open_form(client, patrol_id)
    client.post(f"/patrols/{patrol_id}/contacts/new", data=typical(form))
    with app.app_context():
        contact_id = db.session.scalars(select(Contact.id)).one()

    edit_page = text_of(client.get(f"/contacts/{contact_id}/edit"))
    assert 'value="2"' in edit_page and "Éli" not in edit_page
    edited = typical(form, gender="male", person_code="")
    edited["csrf_token"] = auth.page_token(f"/contacts/{contact_id}/edit")
    response = client.post(f"/contacts/{contact_id}/edit", data=edited)
    assert response.status_code == 302
    with app.app_context():
        contact = db.session.get(Contact, contact_id)
        assert contact is not None and contact.gender == "male"
        assert contact.pseudonym_association is not None

    auth.logout()
    auth.login_as(world, "worker2")
    response = client.get(f"/contacts/{contact_id}/edit")
    assert response.status_code == 302 and response.location == "/patrols"
    auth.logout()

    auth.login_as(world, "worker")
    token = auth.page_token(f"/patrols/{patrol_id}/end")
    response = client.post(
        f"/patrols/{patrol_id}/end",
        data={
            "csrf_token": token,
            "people_seen_not_met": "4",
            "atmosphere": "tense",
            "used_material_collected": "12",
            "site_observations": "Beaucoup de matériel près de l'escalier.",
        },
    )
    assert response.status_code == 302
    assert client.get(f"/contacts/{contact_id}/edit").status_code == 302
    assert client.get(f"/patrols/{patrol_id}/contacts/new").status_code == 302
    with app.app_context():
        patrol = db.session.get(Patrol, patrol_id)
        assert patrol is not None and patrol.ended_at is not None
        assert (patrol.people_seen_not_met, patrol.atmosphere, patrol.used_material_collected) == (
            4,
            "tense",
            12,
        )
    page = text_of(client.get(f"/patrols/{patrol_id}"))
    assert "Tendue" in page and "Compte rendu" in page


def test_end_of_patrol_report_is_validated(
    client: FlaskClient, auth: AuthActions, app: Flask, world: World
) -> None:
    auth.login_as(world, "worker")
    patrol_id = start(client, auth, app, world)
    token = auth.page_token(f"/patrols/{patrol_id}/end")
    page = text_of(client.get(f"/patrols/{patrol_id}/end"))
    assert "Jamais rien sur une personne" in page
    response = client.post(
        f"/patrols/{patrol_id}/end",
        data={
            "csrf_token": token,
            "people_seen_not_met": "-3",
            "atmosphere": "apocalyptic",
            "used_material_collected": "abc",
            "site_observations": "x" * 1001,
        },
    )
    assert response.status_code == 422
    with app.app_context():
        patrol = db.session.get(Patrol, patrol_id)
        assert patrol is not None and patrol.ended_at is None


def test_another_association_sees_404_for_our_patrols_and_contacts(
    client: FlaskClient, auth: AuthActions, app: Flask, world: World
) -> None:
    auth.login_as(world, "worker")
    patrol_id = start(client, auth, app, world)
    client.post(f"/patrols/{patrol_id}/contacts/new", data=typical(open_form(client, patrol_id)))
    with app.app_context():
        contact_id = db.session.scalars(select(Contact.id)).one()
    auth.logout()

    auth.login_as(world, "other_worker")
    token = auth.page_token()
    for method, url in (
        ("GET", f"/patrols/{patrol_id}"),
        ("GET", f"/patrols/{patrol_id}/contacts/new"),
        ("POST", f"/patrols/{patrol_id}/contacts/new"),
        ("GET", f"/patrols/{patrol_id}/end"),
        ("POST", f"/patrols/{patrol_id}/end"),
        ("GET", f"/contacts/{contact_id}/edit"),
        ("POST", f"/contacts/{contact_id}/edit"),
    ):
        response = client.open(url, method=method, data={"csrf_token": token})
        assert response.status_code == 404, (method, url, response.status_code)


def test_a_worker_not_in_the_patrol_cannot_log_into_it(
    client: FlaskClient, auth: AuthActions, app: Flask, world: World
) -> None:
    auth.login_as(world, "supervisor")
    patrol_id = start(client, auth, app, world)  # supervisor + worker2
    auth.logout()
    auth.login_as(world, "worker")
    assert client.get(f"/patrols/{patrol_id}").status_code == 200
    assert client.get(f"/patrols/{patrol_id}/contacts/new").status_code == 403


def test_start_patrol_requires_a_zone(
    client: FlaskClient, auth: AuthActions, app: Flask, world: World
) -> None:
    auth.login_as(world, "worker")
    token = auth.page_token("/patrols/new")
    response = client.post("/patrols/new", data={"csrf_token": token})
    assert response.status_code == 422
    assert "Choisissez une zone." in text_of(response)
    response = client.post("/patrols/new", data={"csrf_token": token, "zone": "999999"})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count(Patrol.id))) == 0


def test_one_open_patrol_at_a_time(
    client: FlaskClient, auth: AuthActions, app: Flask, world: World
) -> None:
    auth.login_as(world, "worker")
    patrol_id = start(client, auth, app, world)
    response = client.get("/patrols/new")
    assert response.location == f"/patrols/{patrol_id}"
    home = text_of(client.get("/patrols"))
    assert "Tournée en cours" in home


def test_a_contact_posted_to_a_patrol_one_may_not_add_to_is_refused_and_nothing_stored(
    client: FlaskClient, auth: AuthActions, app: Flask, world: World
) -> None:
    """The form's POST checks the patrol with validation's query: the same answers as the
    page (403 outside the patrol, back to the patrol once it ended, 404 for no patrol)."""
    auth.login_as(world, "supervisor")
    patrol_id = start(client, auth, app, world)  # supervisor + worker2
    form = open_form(client, patrol_id)
    auth.logout()

    auth.login_as(world, "worker")  # same association, not in the patrol
    token = auth.page_token()
    posted = typical({**form, "csrf_token": token})
    invalid = typical({**form, "csrf_token": token}, zone="")
    for data in (posted, invalid):  # who may add comes before what is added
        assert client.post(f"/patrols/{patrol_id}/contacts/new", data=data).status_code == 403
    for missing in (patrol_id + 1000, 2**31 - 1):  # no such patrol; the largest id
        response = client.post(f"/patrols/{missing}/contacts/new", data=posted)
        assert response.status_code == 404, missing
    auth.logout()

    auth.login_as(world, "worker2")  # in the patrol, which then ends
    with app.app_context():
        patrol = db.session.get(Patrol, patrol_id)
        assert patrol is not None
        patrol.ended_at = patrol.started_at
        db.session.commit()
    token = auth.page_token()
    for data in (typical({**form, "csrf_token": token}, zone=""), typical(form, csrf_token=token)):
        response = client.post(f"/patrols/{patrol_id}/contacts/new", data=data)
        assert response.status_code == 302 and response.location == f"/patrols/{patrol_id}"
        assert "Cette tournée est terminée." in text_of(client.get(response.location))
    assert contact_count(app) == 0


def test_a_quantity_too_long_to_be_a_number_is_refused_with_a_message(
    client: FlaskClient, auth: AuthActions, app: Flask, world: World
) -> None:
    """Past 4,300 digits Python's int() refuses the text itself: a message, not a 500."""
    auth.login_as(world, "worker")
    patrol_id = start(client, auth, app, world)
    form = open_form(client, patrol_id)
    for quantity, message in (("9" * 5000, "Nombre entier attendu."), ("9" * 50, "Entre 0 et")):
        data = typical(form, **{"material-kit_base": quantity})
        response = client.post(f"/patrols/{patrol_id}/contacts/new", data=data)
        assert response.status_code == 422 and message in text_of(response)
    assert contact_count(app) == 0
