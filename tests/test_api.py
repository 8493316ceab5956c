"""POST /api/v1/contacts: idempotent on id, per-item results, same validation as the form."""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from outreach.capture.code_seal import public_key, seal
from outreach.extensions import db
from outreach.models import Contact

from .conftest import AuthActions, World
from .support import api_for, contact, rows


def test_new_id_201_same_body_200_other_body_409(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    api = api_for(client, auth, world)
    body = contact()
    first = api.post(body)
    assert first.status_code == 201
    assert first.get_json() == {"id": body["id"], "status": "created"}
    assert first.headers["Cache-Control"] == "no-store"
    again = api.post({**body, "person_code": "eli-1990"})  # same person, other spelling
    assert again.status_code == 200 and again.get_json()["status"] == "unchanged"
    other = api.post({**body, "gender": "male"})
    assert other.status_code == 409
    assert other.get_json()["status"] == "conflict"
    assert rows(app) == 1


def test_invalid_contact_is_422_with_per_field_french_messages(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    api = api_for(client, auth, world)
    response = api.post(contact(zone="atlantis", materials={"kit_base": 1000}, extra=1))
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert errors["zone"] == ["Choisissez une zone."]
    assert errors["materials.kit_base"] == ["Entre 0 et 999."]
    assert errors["extra"] == ["Champ inconnu."]
    assert "Éli" not in response.get_data(as_text=True)
    assert rows(app) == 0


def test_not_json_and_bad_batches(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    api = api_for(client, auth, world)
    response = client.post(
        "/api/v1/contacts",
        data="{not json",
        headers={"X-CSRFToken": api.token, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert api.post([]).status_code == 422
    assert api.post([contact() for _ in range(501)]).status_code == 422
    assert api.post("a string").status_code == 422
    # A number past Python's 4,300 digits cannot even be parsed: refused like bad JSON.
    response = client.post(
        "/api/v1/contacts",
        data='{"materials": {"kit_base": ' + "9" * 5000 + "}}",
        headers={"X-CSRFToken": api.token, "Content-Type": "application/json"},
    )
    assert response.status_code == 422 and response.get_json()["status"] == "invalid"
    assert rows(app) == 0


def test_a_list_gets_one_result_per_item_and_keeps_the_good_ones(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    api = api_for(client, auth, world)
    saved = contact()
    api.post(saved)
    batch = [contact(), saved, {**saved, "gender": "male"}, contact(gender="robot"), 42]
    response = api.post(batch)
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [(r["status"], r["code"]) for r in results] == [
        ("created", 201),
        ("unchanged", 200),
        ("conflict", 409),
        ("invalid", 422),
        ("invalid", 422),
    ]
    assert results[0]["id"] == batch[0]["id"] and results[4]["id"] is None
    assert results[3]["errors"] == {"gender": ["Choix inconnu."]}
    assert rows(app) == 2


def test_a_batch_of_500_is_accepted(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    api = api_for(client, auth, world)
    response = api.post([contact() for _ in range(500)])
    assert response.status_code == 200
    assert {r["status"] for r in response.get_json()["results"]} == {"created"}
    assert rows(app) == 500


def test_csrf_login_and_role_are_required(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    anonymous = client.post("/api/v1/contacts", json=contact())
    assert anonymous.status_code == 401
    assert anonymous.get_json()["error"] == "unauthenticated"

    api = api_for(client, auth, world)
    missing = api.post(contact(), token="")
    assert missing.status_code == 400 and missing.is_json
    assert api.post(contact(), token="forged").status_code == 400
    auth.logout()

    funder = api_for(client, auth, world, "funder")
    assert funder.post(contact()).status_code == 403
    assert rows(app) == 0


def test_associations_are_separate_even_with_the_same_id(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    body = contact()
    demo = api_for(client, auth, world)
    assert demo.post(body).status_code == 201
    auth.logout()
    other = api_for(client, auth, world, "other_worker")
    response = other.post({**body, "gender": "male"})
    assert response.status_code == 201, "another association's id must not leak as a conflict"
    assert rows(app) == 2


def test_patrol_of_another_association_is_refused(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    from .support import start

    demo = api_for(client, auth, world)
    patrol_id = start(client, auth, app, world)
    assert demo.post(contact(patrol_id=patrol_id)).status_code == 201
    auth.logout()
    other = api_for(client, auth, world, "other_worker")
    response = other.post(contact(patrol_id=patrol_id))
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"patrol_id": ["Tournée inconnue."]}


def test_form_options_give_what_the_offline_form_needs(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    from .support import start

    api = api_for(client, auth, world)
    assert client.get("/api/v1/form-options").get_json()["patrol"] is None
    patrol_id = start(client, auth, app, world)
    options = client.get("/api/v1/form-options").get_json()
    assert options["patrol"]["id"] == patrol_id and options["patrol"]["zone"] == "stalingrad"
    assert [n["code"] for n in options["needs"]][:2] == ["shelter", "food"]
    assert {m["category"] for m in options["materials"]} == {"crack", "injection", "other"}
    assert len(options["zones"]) == 9
    assert options["genders"]["female"] == "Femme"
    assert api.post(contact(), token=options["csrf_token"]).status_code == 201


def test_openapi_document_is_public_and_describes_the_contact(client: FlaskClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.1")
    schema = document["components"]["schemas"]["Contact"]
    assert set(schema["required"]) == {"id", "occurred_at", "zone"}
    assert schema["properties"]["gender"]["enum"] == ["female", "male", "other", "unknown"]
    assert set(document["paths"]["/api/v1/contacts"]["post"]["responses"]) >= {
        "200",
        "201",
        "409",
        "422",
    }


def post_at_once(app: Flask, world: World, body: Any, senders: int = 8) -> list[Any]:
    """`senders` logged-in phones post the same body at the same instant."""
    clients = []
    for _ in range(senders):
        client = app.test_client()
        auth = AuthActions(client)
        auth.login_as(world, "worker")
        clients.append((client, auth.page_token()))
    answers: list[Any] = []
    barrier = threading.Barrier(senders)

    def send(client: FlaskClient, token: str) -> None:
        barrier.wait()
        answers.append(client.post("/api/v1/contacts", json=body, headers={"X-CSRFToken": token}))

    threads = [threading.Thread(target=send, args=pair) for pair in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_eight_clients_sending_the_same_new_id_at_once_make_one_row(
    app: Flask, world: World
) -> None:
    answers = post_at_once(app, world, contact())
    assert sorted(answer.status_code for answer in answers) == [200] * 7 + [201]
    assert rows(app) == 1


def test_a_repeated_id_inside_one_batch_is_a_replay_or_a_conflict(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    api = api_for(client, auth, world)
    body = contact()
    response = api.post([body, body, {**body, "gender": "male"}])
    statuses = [r["status"] for r in response.get_json()["results"]]
    assert statuses == ["created", "unchanged", "conflict"]
    assert rows(app) == 1


def test_eight_clients_sending_the_same_batch_at_once_store_each_contact_once(
    app: Flask, world: World
) -> None:
    answers = post_at_once(app, world, [contact() for _ in range(20)])
    outcomes = [[r["status"] for r in answer.get_json()["results"]] for answer in answers]
    assert len(outcomes) == 8
    for position in range(20):
        assert sorted(o[position] for o in outcomes) == ["created"] + ["unchanged"] * 7
    assert rows(app) == 20


def test_a_patrol_id_beyond_any_integer_column_is_simply_unknown(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    api = api_for(client, auth, world)
    for patrol_id in (2**31, 2**70, -1, 0):
        response = api.post(contact(patrol_id=patrol_id))
        assert response.status_code == 422
        assert response.get_json()["errors"] == {"patrol_id": ["Tournée inconnue."]}
    assert rows(app) == 0


def test_a_person_code_sealed_on_the_phone_is_opened_by_the_server_alone(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    """The same person, with the code sealed or typed, is one pseudonym; an envelope the
    server cannot open is refused on the code's field and nothing is stored."""
    api = api_for(client, auth, world)
    key = client.get("/api/v1/form-options").get_json()["person_code_key"]
    typed, sealed = contact(), contact(person_code=seal("Éli 1990", key))
    assert api.post(typed).status_code == 201
    assert api.post(sealed).status_code == 201
    with app.app_context():
        pseudonyms = db.session.scalars(select(Contact.pseudonym_association)).all()
    assert len(pseudonyms) == 2 and pseudonyms[0] == pseudonyms[1]

    other_key = public_key("another deployment's pseudonym key, 32+ characters")
    for envelope in (seal("Éli 1990", other_key), sealed["person_code"][:-4], "sealed:v1:!!"):
        refused = api.post(contact(person_code=envelope))
        assert refused.status_code == 422
        assert refused.get_json()["errors"] == {
            "person_code": ["Code illisible : saisissez-le à nouveau."]
        }
    assert rows(app) == 2
