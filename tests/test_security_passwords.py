"""Passwords: argon2id at OWASP's level, the policy, changes, resets and team management."""

from __future__ import annotations

import re
from importlib.resources import files

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from config import Settings
from outreach.auth.passwords import (
    MAX_PASSWORD_LENGTH,
    PasswordProblem,
    common_passwords,
    generate_temporary_password,
    password_hasher,
    password_problem,
)
from outreach.extensions import db
from outreach.models import AuditEntry, User

from .conftest import PASSWORD, AuthActions, World, csrf_token_of, text_of

NEW = "the night bus leaves at four"
TEMPORARY = re.compile(r'class="temporary-password"><code>([a-z0-9-]+)</code>')


def test_production_hashing_is_argon2id_at_or_above_owasp_minimum() -> None:
    encoded = password_hasher(Settings()).hash("whatever it is, long")
    match = re.match(r"^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$", encoded)
    assert match, encoded
    memory, time_cost, _ = (int(group) for group in match.groups())
    assert memory >= 19456 and time_cost >= 2  # OWASP: 19 MiB, 2 iterations
    assert PasswordHasher().verify(encoded, "whatever it is, long")


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("a" * 11, PasswordProblem.LENGTH),
        ("x" * (MAX_PASSWORD_LENGTH + 1), PasswordProblem.LENGTH),
        ("Password2026!", PasswordProblem.COMMON),
        ("  iloveyou123456  ", PasswordProblem.COMMON),
        ("qwertyuiop12", PasswordProblem.COMMON),
        ("azertyuiopqsd", PasswordProblem.COMMON),
        ("123456789012", PasswordProblem.COMMON),
        ("abcabcabcabc", PasswordProblem.COMMON),
        ("Maraudes2026", PasswordProblem.COMMON),
        ("worker@demo.test", PasswordProblem.COMMON),
        ("worker-2026-!!", PasswordProblem.COMMON),
        ("correct horse battery staple", None),
        ("9!3#8$7%k2@1", None),
        ("tr0ub4dor&3 at night", None),
        ("🚐 nuit à Stalingrad", None),
        (("nuit longue " * 11)[:MAX_PASSWORD_LENGTH], None),
    ],
)
def test_policy(password: str, problem: PasswordProblem | None) -> None:
    assert password_problem(password, ("worker@demo.test", "worker")) is problem


def test_the_shipped_list_is_large_lowercase_and_says_where_it_comes_from() -> None:
    passwords = common_passwords()
    assert len(passwords) > 15_000
    assert {"password", "iloveyou", "qwertyuiop"} <= passwords
    assert all(entry == entry.lower() for entry in passwords)
    header = files("outreach.auth").joinpath("common_passwords.txt").read_text().splitlines()[:4]
    assert any("Django" in line for line in header)


def test_temporary_passwords_pass_the_policy_and_differ() -> None:
    made = {generate_temporary_password() for _ in range(50)}
    assert len(made) == 50
    assert all(password_problem(p) is None and len(p) == 19 for p in made)


def change(client: FlaskClient, current: str, new: str, confirm: str | None = None) -> TestResponse:
    token = csrf_token_of(client.get("/account/password"))
    return client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": current,
            "new_password": new,
            "confirm": new if confirm is None else confirm,
        },
    )


def test_changing_ones_password(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    auth.login_as(world, "worker")
    wrong = change(client, "not my password at all", NEW)
    assert wrong.status_code == 401 and "Mot de passe actuel incorrect." in text_of(wrong)
    common = change(client, PASSWORD, "Password2026!")
    assert common.status_code == 422 and "trop courant" in text_of(common)
    short = change(client, PASSWORD, "short one")
    assert short.status_code == 422 and "Entre 12 et 128 caractères." in text_of(short)
    differ = change(client, PASSWORD, NEW, confirm=NEW + "!")
    assert differ.status_code == 422 and "Les deux mots de passe diffèrent." in text_of(differ)
    assert change(client, PASSWORD, NEW).status_code == 302
    auth.logout()
    assert auth.login(world.users["worker"].email, PASSWORD).status_code == 401
    assert auth.login(world.users["worker"].email, NEW).status_code == 302
    with app.app_context():
        (entry,) = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "password.changed")
        ).all()
        assert entry.actor_id == world.id_of("worker")


def reset(client: FlaskClient, user_id: int) -> TestResponse:
    token = csrf_token_of(client.get("/accounts"))
    return client.post(
        f"/accounts/{user_id}/password", data={"csrf_token": token, "confirmed": "1"}
    )


def test_a_supervisor_reset_gives_a_temporary_password_to_change_at_first_login(
    app: Flask, world: World
) -> None:
    supervisor, worker = app.test_client(), app.test_client()
    AuthActions(supervisor).login_as(world, "supervisor")
    response = reset(supervisor, world.id_of("worker"))
    assert response.status_code == 200
    match = TEMPORARY.search(response.get_data(as_text=True))
    assert match
    temporary = match.group(1)
    worker_auth = AuthActions(worker)
    assert worker_auth.login(world.users["worker"].email, PASSWORD).status_code == 401
    assert worker_auth.login(world.users["worker"].email, temporary).status_code == 302
    for path in ("/patrols", "/followup", "/account", "/"):
        assert worker.get(path).location == "/account/password", path
    assert worker.get("/api/v1/form-options").status_code == 403
    assert "choisissez-en un nouveau" in text_of(worker.get("/account/password"))
    assert change(worker, temporary, NEW).status_code == 302
    assert worker.get("/patrols").status_code == 200
    with app.app_context():
        user = db.session.get(User, world.id_of("worker"))
        assert user is not None and not user.must_change_password
        (entry,) = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "password.reset")
        ).all()
        assert entry.actor_id == world.id_of("supervisor")
        assert entry.association_id == world.demo.id
        assert temporary not in str(entry.details)


def test_who_may_reset_whom(app: Flask, world: World) -> None:
    other = app.test_client()
    AuthActions(other).login_as(world, "other_supervisor")
    assert reset(other, world.id_of("worker")).status_code == 404
    assert reset(other, world.id_of("admin")).status_code == 404
    refused = reset(other, world.id_of("other_supervisor"))
    assert refused.status_code == 422 and "Mon compte" in text_of(refused)
    assert reset(other, world.id_of("other_worker")).status_code == 200
    admin = app.test_client()
    AuthActions(admin).login_as(world, "admin")
    assert reset(admin, world.id_of("funder")).status_code == 200
    page = text_of(admin.get("/accounts"))
    assert world.users["worker"].email in page and world.users["other_worker"].email in page
    other_page = text_of(other.get("/accounts"))
    assert world.users["worker"].email not in other_page
    assert world.users["other_worker"].email in other_page


def role_of(app: Flask, user_id: int) -> str:
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        return user.role


def test_admins_swap_roles_within_the_same_tenancy_only(app: Flask, world: World) -> None:
    admin = app.test_client()
    AuthActions(admin).login_as(world, "admin")
    token = csrf_token_of(admin.get("/accounts"))
    worker_id = world.id_of("worker")
    refused = admin.post(f"/accounts/{worker_id}/role", data={"csrf_token": token, "role": "admin"})
    assert refused.status_code == 422 and role_of(app, worker_id) == "worker"
    promoted = admin.post(
        f"/accounts/{worker_id}/role", data={"csrf_token": token, "role": "supervisor"}
    )
    assert promoted.status_code == 302 and role_of(app, worker_id) == "supervisor"
    promoted_client = app.test_client()
    assert AuthActions(promoted_client).login(world.users["worker"].email).status_code == 302
    assert promoted_client.get("/team").location == "/account/second-factor", "now required"
    supervisor = app.test_client()
    AuthActions(supervisor).login_as(world, "supervisor")
    token = csrf_token_of(supervisor.get("/accounts"))
    response = supervisor.post(
        f"/accounts/{world.id_of('worker2')}/role", data={"csrf_token": token, "role": "supervisor"}
    )
    assert response.status_code == 403


def test_the_cli_refuses_common_passwords(app: Flask) -> None:
    runner = app.test_cli_runner()
    runner.invoke(args=["outreach", "seed-demo", "--contacts", "0"])
    result = runner.invoke(
        args=["outreach", "create-user", "new@demo.test", "--role", "admin", "--password-stdin"],
        input="Password123456\n",
    )
    assert result.exit_code != 0 and "too common" in result.output
