"""Second factor: required for supervisors, funders and admins; codes and recovery codes once."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time
from sqlalchemy import select

from config import Settings
from outreach.auth.totp import (
    SecondFactorError,
    confirm_enrolment,
    decrypt_secret,
    pending_secret,
    verify_second_factor,
)
from outreach.extensions import db
from outreach.models import AuditEntry, RecoveryCode, User

from .conftest import (
    AuthActions,
    World,
    csrf_token_of,
    enrol_totp,
    text_of,
    totp_code_for,
)

START = datetime(2026, 11, 21, 21, 0, tzinfo=UTC)
RECOVERY = re.compile(r"<code>([A-Z0-9]{4}(?:-[A-Z0-9]{4}){3})</code>")


def code_at(secret: str, moment: datetime) -> str:
    return pyotp.TOTP(secret).at(int(moment.timestamp()))


def actions(app: Flask, key: str, world: World) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.actor_id == world.id_of(key))
                .order_by(AuditEntry.id)
            )
        )


@pytest.mark.parametrize("role", ["supervisor", "funder", "admin"])
def test_required_roles_must_enrol_before_anything_else(
    client: FlaskClient, auth: AuthActions, world: World, role: str
) -> None:
    response = auth.login(world.users[role].email)
    assert response.status_code == 302
    for path in ("/", "/account", "/audit", "/summary", "/team", "/admin"):
        answer = client.get(path)
        assert answer.status_code in (302, 403), path
        if answer.status_code == 302:
            assert answer.location == "/account/second-factor", path
    api = client.get("/api/v1/form-options")
    assert api.status_code == 403
    page = client.get("/account/second-factor")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert '<svg width="' in body and "<script>" not in body and "style=" not in body
    assert "Maraudes" in text_of(page)


def test_enrolment_keeps_one_secret_until_confirmed_then_shows_recovery_codes_once(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    auth.login(world.users["supervisor"].email)
    first = client.get("/account/second-factor").get_data(as_text=True)
    second = client.get("/account/second-factor").get_data(as_text=True)
    key = re.search(r'<code class="secret-key">([A-Z2-7 ]+)</code>', first)
    assert key and key.group(1) in second, "a reload shows the same key"
    secret = key.group(1).replace(" ", "")
    token = csrf_token_of(client.get("/account/second-factor"))
    wrong = client.post("/account/second-factor", data={"csrf_token": token, "code": "000000"})
    assert wrong.status_code == 422
    ok = client.post(
        "/account/second-factor",
        data={"csrf_token": token, "code": pyotp.TOTP(secret).now()},
    )
    assert ok.status_code == 200
    codes = RECOVERY.findall(ok.get_data(as_text=True))
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get("/team").status_code == 200
    assert client.get("/account/second-factor").location == "/account"
    with app.app_context():
        user = db.session.get(User, world.id_of("supervisor"))
        assert user is not None and user.totp_confirmed_at is not None
        stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
        assert len(stored) == 10 and not set(codes) & set(stored)
        assert secret not in (user.totp_secret_encrypted or "")
    assert "totp.enrolled" in actions(app, "supervisor", world)


def test_the_secret_is_encrypted_under_secret_key_and_bound_to_its_user(
    app: Flask, settings: Settings, world: World
) -> None:
    secret = enrol_totp(app, world.id_of("admin"))
    with app.app_context():
        admin = db.session.get(User, world.id_of("admin"))
        funder = db.session.get(User, world.id_of("funder"))
        assert admin is not None and funder is not None
        assert decrypt_secret(settings, admin) == secret
        other_key = replace(settings, secret_key="another-secret-key-0123456789abcdef012345")
        with pytest.raises(SecondFactorError):
            decrypt_secret(other_key, admin)
        funder.totp_secret_encrypted = admin.totp_secret_encrypted
        with pytest.raises(SecondFactorError):
            decrypt_secret(settings, funder)


def test_login_asks_for_the_code_and_refuses_a_wrong_one(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    enrol_totp(app, world.id_of("funder"))
    response = auth.login(world.users["funder"].email)
    assert response.location == "/login/code"
    assert client.get("/summary").location.startswith("/login"), "not logged in yet"
    wrong = auth.second_factor("123456")
    assert wrong.status_code == 401
    assert "Code incorrect" in text_of(wrong)
    right = auth.second_factor(totp_code_for(app, world.id_of("funder")))
    assert right.location == "/summary"
    assert client.get("/summary").status_code == 200
    assert actions(app, "funder", world)[-2:] == ["login.second_factor_failed", "login.succeeded"]


def test_a_code_is_accepted_once_only(app: Flask, world: World) -> None:
    code = totp_code_for(app, world.id_of("admin"))
    first, second = app.test_client(), app.test_client()
    AuthActions(first).login(world.users["admin"].email)
    AuthActions(second).login(world.users["admin"].email)
    assert AuthActions(first).second_factor(code).status_code == 302
    replayed = AuthActions(second).second_factor(code)
    assert replayed.status_code == 401
    assert second.get("/admin").location.startswith("/login")


def test_an_earlier_code_is_refused_after_a_later_one(
    app: Flask, settings: Settings, world: World
) -> None:
    secret = enrol_totp(app, world.id_of("admin"))
    with app.app_context(), freeze_time(START + timedelta(hours=1)):
        admin = db.session.get(User, world.id_of("admin"))
        assert admin is not None
        admin.totp_last_step = None  # enrolled at the real time, which may be later
        now = START + timedelta(hours=1)
        later, earlier = code_at(secret, now + timedelta(seconds=30)), code_at(secret, now)
        assert verify_second_factor(db.session, settings, admin, later, now) == "totp"
        assert verify_second_factor(db.session, settings, admin, earlier, now) is None
        assert verify_second_factor(db.session, settings, admin, later, now) is None
        too_old = code_at(secret, now - timedelta(seconds=90))
        admin.totp_last_step = None
        assert verify_second_factor(db.session, settings, admin, too_old, now) is None


def test_recovery_codes_work_once_each(
    app: Flask, client: FlaskClient, auth: AuthActions, settings: Settings, world: World
) -> None:
    with app.app_context():
        user = db.session.get(User, world.id_of("supervisor"))
        assert user is not None
        secret = pending_secret(db.session, settings, user)
        now = datetime.now(UTC)
        codes = confirm_enrolment(db.session, settings, user, code_at(secret, now), now)
        db.session.commit()
    assert codes is not None
    auth.login(world.users["supervisor"].email)
    used = auth.second_factor(codes[0].lower().replace("-", " "))
    assert used.location == "/team"
    assert "il vous en reste 9" in text_of(client.get("/team"))
    auth.logout()
    auth.login(world.users["supervisor"].email)
    assert auth.second_factor(codes[0]).status_code == 401
    assert "totp.recovery_code_used" in actions(app, "supervisor", world)


def test_workers_may_skip_it_or_turn_it_on_and_off(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    assert auth.login_as(world, "worker").location == "/patrols"
    assert "Non activé" in text_of(client.get("/account"))
    enrol_totp(app, world.id_of("worker"))
    auth.logout()
    assert auth.login(world.users["worker"].email).location == "/login/code"
    assert auth.second_factor(totp_code_for(app, world.id_of("worker"))).status_code == 302
    token = csrf_token_of(client.get("/account"))
    refused = client.post(
        "/account/second-factor/disable", data={"csrf_token": token, "code": "999999"}
    )
    assert refused.status_code == 401
    off = client.post(
        "/account/second-factor/disable",
        data={"csrf_token": token, "code": totp_code_for(app, world.id_of("worker"))},
    )
    assert off.status_code == 302
    auth.logout()
    assert auth.login(world.users["worker"].email).location == "/patrols"
    assert "totp.disabled" in actions(app, "worker", world)


def test_recovery_codes_can_be_renewed_with_a_code(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    auth.login_as(world, "admin")
    token = csrf_token_of(client.get("/account"))
    renewed = client.post(
        "/account/recovery-codes",
        data={"csrf_token": token, "code": totp_code_for(app, world.id_of("admin"))},
    )
    assert renewed.status_code == 200
    assert len(RECOVERY.findall(renewed.get_data(as_text=True))) == 10
    assert client.post("/account/recovery-codes", data={"csrf_token": token}).status_code == 422


def test_an_admin_resets_a_lost_second_factor(app: Flask, world: World) -> None:
    supervisor, admin = app.test_client(), app.test_client()
    AuthActions(supervisor).login_as(world, "supervisor")
    AuthActions(admin).login_as(world, "admin")
    token = csrf_token_of(admin.get("/accounts"))
    response = admin.post(
        f"/accounts/{world.id_of('supervisor')}/second-factor",
        data={"csrf_token": token, "confirmed": "1"},
    )
    assert response.status_code == 302
    assert supervisor.get("/team").location.startswith("/login")
    assert AuthActions(supervisor).login(world.users["supervisor"].email).location == "/team"
    assert supervisor.get("/team").location == "/account/second-factor"
    with app.app_context():
        kept = select(RecoveryCode).where(RecoveryCode.user_id == world.id_of("supervisor"))
        assert db.session.scalars(kept).all() == []


def test_the_pending_login_expires_after_five_minutes(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    secret = enrol_totp(app, world.id_of("funder"))
    with freeze_time(START) as clock:
        auth.login(world.users["funder"].email)
        clock.tick(timedelta(minutes=6))
        token = csrf_token_of(client.get("/login"))
        response = client.post(
            "/login/code",
            data={"csrf_token": token, "code": code_at(secret, START + timedelta(minutes=6))},
        )
        assert response.location == "/login"
        assert "la connexion a pris trop de temps" in text_of(client.get("/login"))


def test_the_code_step_without_a_password_step_sends_back_to_login(client: FlaskClient) -> None:
    assert client.get("/login/code").location == "/login"
    assert "trop de temps" not in text_of(client.get("/login"))
