"""Creating accounts (/accounts/new): admins any role, supervisors workers of their team;
a temporary password to change at the first login; another association's accounts 404."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from outreach.extensions import db
from outreach.models import AuditEntry, User

from .conftest import AuthActions, World, enrol_totp, text_of
from .support import create, field_error, temporary_password


def account(app: Flask, email: str) -> User | None:
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == email)).one_or_none()
        if user is not None:
            db.session.expunge(user)
        return user


def test_an_admin_creates_a_worker_who_must_change_the_password(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    auth.login_as(world, "admin")
    form = text_of(client.get("/accounts/new"))
    assert 'name="role"' in form and "Autre Association" in form
    response = create(
        auth,
        email=" Nadia@Other.TEST ",
        display_name="Nadia",
        role="worker",
        association=str(world.other.id),
    )
    password = temporary_password(response)
    assert "Compte de Nadia (nadia@other.test) créé." in text_of(response)
    created = account(app, "nadia@other.test")
    assert created is not None
    assert (created.role, created.association_id, created.must_change_password) == (
        "worker",
        world.other.id,
        True,
    )
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "user.created"))
        [audited] = entry.all()
        assert (audited.actor_id, audited.association_id) == (world.id_of("admin"), world.other.id)
        assert audited.details == {"user_id": created.id, "role": "worker"}
        assert password not in str(audited.details)

    newcomer = AuthActions(app.test_client())
    logged = newcomer.login("nadia@other.test", password)
    assert logged.status_code == 302
    assert newcomer.client.get("/patrols").location == "/account/password"


def test_an_admin_creates_a_funder_without_association(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    auth.login_as(world, "admin")
    temporary_password(
        create(auth, email="ars@idf.test", display_name="ARS", role="funder", association="")
    )
    funder = account(app, "ars@idf.test")
    assert funder is not None and (funder.role, funder.association_id) == ("funder", None)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"email": "WORKER@demo.test", "role": "worker"},
            "email",
            "Un compte utilise déjà cette adresse.",
        ),
        ({"email": "pas-une-adresse", "role": "worker"}, "email", "Adresse e-mail invalide."),
        (
            {"email": "x@demo.test", "role": "worker", "association": ""},
            "association",
            "Choisissez l'association de ce compte.",
        ),
        (
            {"email": "x@platform.test", "role": "funder"},
            "association",
            "Un financeur ou un·e administrateur·rice n'appartient à aucune association.",
        ),
        ({"email": "x@demo.test", "role": "root"}, "role", "N'est pas un choix valide."),
        (
            {"email": "x@demo.test", "role": "worker", "display_name": "a\x07b"},
            "display_name",
            "Caractère invisible refusé : retapez le texte.",
        ),
    ],
)
def test_a_refused_account_shows_why_on_its_field(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    world: World,
    data: dict[str, str],
    field: str,
    message: str,
) -> None:
    auth.login_as(world, "admin")
    with app.app_context():
        before = len(db.session.scalars(select(User.id)).all())
    fields = {"display_name": "Quelqu'un", "association": str(world.demo.id), **data}
    response = create(auth, **fields)
    assert response.status_code == 422
    assert field_error(text_of(response), field) == message
    with app.app_context():
        assert len(db.session.scalars(select(User.id)).all()) == before


def test_a_supervisor_creates_workers_of_their_own_team_only(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    auth.login_as(world, "supervisor")
    form = text_of(client.get("/accounts/new"))
    assert 'name="role"' not in form and 'name="association"' not in form
    assert "pour Maraude Démo" in form
    # Extra fields are ignored: a supervisor cannot make an admin, nor another's worker.
    response = create(
        auth,
        email="yanis@demo.test",
        display_name="Yanis",
        role="admin",
        association=str(world.other.id),
    )
    temporary_password(response)
    created = account(app, "yanis@demo.test")
    assert created is not None
    assert (created.role, created.association_id) == ("worker", world.demo.id)
    assert "yanis@demo.test" in text_of(client.get("/accounts"))


def test_a_supervisor_cannot_touch_another_associations_accounts(
    client: FlaskClient, auth: AuthActions, world: World
) -> None:
    auth.login_as(world, "supervisor")
    token = auth.page_token("/accounts")
    assert "other_worker@other.test" not in text_of(client.get("/accounts"))
    other = world.id_of("other_worker")
    for action, data in (
        ("password", {}),
        ("second-factor", {}),
        ("active", {"active": "0"}),
        ("role", {"role": "supervisor"}),
    ):
        response = client.post(f"/accounts/{other}/{action}", data={"csrf_token": token, **data})
        # The role swap is for admins only (403); the others look like a missing account.
        assert response.status_code == (403 if action == "role" else 404), action


@pytest.mark.parametrize("role", ["worker", "funder"])
def test_workers_and_funders_cannot_create_accounts(
    client: FlaskClient, auth: AuthActions, world: World, role: str
) -> None:
    auth.login_as(world, role)
    token = auth.page_token()
    assert client.get("/accounts/new").status_code == 403
    response = client.post(
        "/accounts/new",
        data={"csrf_token": token, "email": "x@demo.test", "display_name": "X"},
    )
    assert response.status_code == 403


UNUSABLE = (
    "Cette adresse ne peut pas servir à un nouveau compte : choisissez-en une autre, "
    "ou demandez à l'administration de la plateforme."
)


def test_a_supervisor_learns_nothing_of_an_address_held_outside_the_team(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    auth.login_as(world, "supervisor")
    answers = {}
    for email in ("other_worker@other.test", "OTHER_SUPERVISOR@other.test", "admin@platform.test"):
        response = create(auth, email=email, display_name="Quelqu'un")
        assert response.status_code == 422
        page = text_of(response)
        assert field_error(page, "email") == UNUSABLE
        assert "Autre Association" not in page and "Un compte utilise" not in page
        answers[email] = re.sub(r'name="csrf_token"[^>]*>|content="[^"]*"', "", page)
        answers[email] = answers[email].replace(email, "").replace(email.lower(), "")
    assert len(set(answers.values())) == 1, "the same answer whoever holds the address"
    own = create(auth, email="worker2@demo.test", display_name="Quelqu'un")
    assert field_error(text_of(own), "email") == (
        "Un compte de votre équipe utilise déjà cette adresse."
    )
    with app.app_context():
        refused = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "user.creation_refused")
        ).all()
        assert len(refused) == 4
        assert {entry.association_id for entry in refused} == {None}  # admins only
        assert {entry.actor_id for entry in refused} == {world.id_of("supervisor")}
    journal = text_of(client.get("/audit"))
    assert "other_worker" not in journal and "creation_refused" not in journal


CONFIRM_FORM = re.compile(
    r'<form method="post" action="(?P<action>[^"]+)"[^>]*>\s*'
    r'<input type="hidden" name="csrf_token" value="[^"]+">\s*'
    r'<input type="hidden" name="confirmed" value="1">'
)


def state_of(app: Flask, user_id: int) -> tuple[str, bool, bool, int]:
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        entries = db.session.scalars(select(AuditEntry.id)).all()
        return user.password_hash, user.active, user.totp_secret_encrypted is not None, len(entries)


@pytest.mark.parametrize(
    ("action", "data", "question", "done"),
    [
        ("password", {}, "Donner un mot de passe temporaire ?", "password"),
        ("active", {"active": "0"}, "Désactiver ce compte ?", "active"),
        ("second-factor", {}, "Réinitialiser le second facteur ?", "totp"),
    ],
)
def test_a_destructive_account_action_waits_for_its_confirmation(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    world: World,
    action: str,
    data: dict[str, str],
    question: str,
    done: str,
) -> None:
    target = world.id_of("worker2")
    enrol_totp(app, target)
    holder = AuthActions(app.test_client())
    holder.login_as(world, "worker2")
    auth.login_as(world, "supervisor")
    before = state_of(app, target)
    token = auth.page_token("/accounts")
    first = client.post(f"/accounts/{target}/{action}", data={"csrf_token": token, **data})
    assert first.status_code == 200
    page = text_of(first)
    assert question in page and "Worker2" in page and "worker2@demo.test" in page
    form = CONFIRM_FORM.search(first.get_data(as_text=True))
    assert form and form.group("action") == f"/accounts/{target}/{action}"
    assert 'href="/accounts"' in page  # cancel: back to the list
    assert state_of(app, target) == before, "the first POST changes nothing"
    assert holder.client.get("/patrols").status_code == 200, "nor ends the sessions"

    confirmed = client.post(
        f"/accounts/{target}/{action}",
        data={"csrf_token": token, "confirmed": "1", **data},
    )
    assert confirmed.status_code in (200, 302)
    after = state_of(app, target)
    changed = {"password": after[0] != before[0], "active": not after[1], "totp": not after[2]}
    assert changed[done]
    assert holder.client.get("/patrols").status_code == 302


def test_a_reactivation_needs_no_confirmation(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    target = world.id_of("worker2")
    with app.app_context():
        user = db.session.get(User, target)
        assert user is not None
        user.active = False
        db.session.commit()
    auth.login_as(world, "supervisor")
    token = auth.page_token("/accounts")
    response = client.post(f"/accounts/{target}/active", data={"csrf_token": token, "active": "1"})
    assert response.status_code == 302
    assert state_of(app, target)[1]
