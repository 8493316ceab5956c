"""Follow-up by code: services and views."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from outreach.extensions import db
from outreach.followup.services import (
    TransitionError,
    association_pseudonym,
    change_referral_status,
    person_history,
)
from outreach.models import Association, AuditEntry, Contact, Referral, User
from outreach.pseudonyms import CodeProblem

from .conftest import AuthActions, World, text_of
from .support import find, log_contact


def test_find_a_person_by_any_spelling_of_their_code_and_follow_a_referral(
    client: FlaskClient, auth: AuthActions, app: Flask, world: World
) -> None:
    auth.login_as(world, "worker")
    log_contact(client, auth, app, world)
    find(client, auth, "eli-1990")
    page = text_of(client.get("/followup/person"))
    assert "115 / SIAO" in page and "Proposée" in page
    assert not any(code in page for code in ("Éli 1990", "eli-1990", "eli1990")), "code shown"

    with app.app_context():
        referral_id = db.session.scalars(select(Referral.id)).one()
    token = auth.page_token("/followup/person")
    for status, label in (("accepted", "Acceptée"), ("attended", "Honorée")):
        response = client.post(
            f"/followup/referrals/{referral_id}/status",
            data={"csrf_token": token, "status": status},
        )
        assert response.status_code == 302
        assert f"Orientation mise à jour : {label}." in text_of(client.get(response.location))
    with app.app_context():
        referral = db.session.get(Referral, referral_id)
        assert referral is not None and referral.status == "attended"
        assert [h.status for h in referral.history] == ["proposed", "accepted", "attended"]
        assert all(h.changed_by_id == world.id_of("worker") for h in referral.history)
        logged = db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action.startswith("referral."))
            .order_by(AuditEntry.id)
        ).all()
        assert [(e.action, e.details["status"]) for e in logged] == [
            ("referral.status_changed", "accepted"),
            ("referral.status_changed", "attended"),
        ]
        assert all(e.association_id == world.demo.id for e in logged)


def test_impossible_transition_is_refused_and_changes_nothing(
    client: FlaskClient, auth: AuthActions, app: Flask, world: World
) -> None:
    auth.login_as(world, "worker")
    log_contact(client, auth, app, world)
    with app.app_context():
        referral_id = db.session.scalars(select(Referral.id)).one()
    token = auth.page_token("/patrols")
    for status in ("attended", "proposed", "nonsense"):
        response = client.post(
            f"/followup/referrals/{referral_id}/status",
            data={"csrf_token": token, "status": status},
        )
        assert response.status_code == 302
    with app.app_context():
        referral = db.session.get(Referral, referral_id)
        assert referral is not None and referral.status == "proposed"
        assert len(referral.history) == 1


def test_code_too_short_is_explained_and_not_echoed(
    client: FlaskClient, auth: AuthActions, world: World
) -> None:
    auth.login_as(world, "worker")
    token = auth.page_token("/followup")
    response = client.post("/followup", data={"csrf_token": token, "person_code": "Z!"})
    assert response.status_code == 422
    page = text_of(response)
    assert "au moins 3 lettres ou chiffres" in page and 'value="Z!"' not in page


def test_nothing_from_another_association(
    client: FlaskClient, auth: AuthActions, app: Flask, world: World
) -> None:
    auth.login_as(world, "worker")
    log_contact(client, auth, app, world)
    with app.app_context():
        referral_id = db.session.scalars(select(Referral.id)).one()
    auth.logout()

    auth.login_as(world, "other_worker")
    find(client, auth, "Éli 1990")
    page = text_of(client.get("/followup/person"))
    assert "Aucun contact de votre association avec ce code." in page
    token = auth.page_token("/followup")
    response = client.post(
        f"/followup/referrals/{referral_id}/status",
        data={"csrf_token": token, "status": "accepted"},
    )
    assert response.status_code == 404
    with app.app_context():
        referral = db.session.get(Referral, referral_id)
        assert referral is not None and referral.status == "proposed"


def test_services_scope_history_to_the_association(
    client: FlaskClient, auth: AuthActions, app: Flask, world: World, settings
) -> None:
    auth.login_as(world, "worker")
    log_contact(client, auth, app, world)
    with app.app_context():
        demo = db.session.get(Association, world.demo.id)
        other = db.session.get(Association, world.other.id)
        assert demo is not None and other is not None
        mine = association_pseudonym(settings.pseudonym_key, demo, "ELI 1990")
        theirs = association_pseudonym(settings.pseudonym_key, other, "ELI 1990")
        assert isinstance(mine, str) and isinstance(theirs, str)
        assert [c.association_id for c in person_history(db.session, demo.id, mine)] == [demo.id]
        assert person_history(db.session, other.id, theirs) == []
        assert person_history(db.session, other.id, mine) == []
        assert association_pseudonym(settings.pseudonym_key, demo, "ab") is CodeProblem.TOO_SHORT

        referral = db.session.scalars(select(Referral)).one()
        user = db.session.get(User, world.id_of("worker"))
        assert user is not None
        with pytest.raises(TransitionError):
            change_referral_status(db.session, referral, "attended", user, datetime.now(UTC))
        contact = db.session.scalars(select(Contact)).one()
        assert contact.referrals[0].status == "proposed"


def test_codes_in_other_scripts_are_different_people(
    client: FlaskClient, auth: AuthActions, app: Flask, world: World
) -> None:
    auth.login_as(world, "worker")
    log_contact(client, auth, app, world, person_code="ЖК 1985")
    find(client, auth, "ДМ 1985")
    assert "Aucun contact de votre association avec ce code." in text_of(
        client.get("/followup/person")
    )
    find(client, auth, "жк-1985")
    assert "115 / SIAO" in text_of(client.get("/followup/person"))


def test_a_code_of_digits_only_is_refused(
    client: FlaskClient, auth: AuthActions, world: World
) -> None:
    auth.login_as(world, "worker")
    token = auth.page_token("/followup")
    response = client.post("/followup", data={"csrf_token": token, "person_code": "1985"})
    assert response.status_code == 422
    assert "au moins une lettre" in text_of(response)
