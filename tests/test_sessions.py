"""Server-side sessions: revocable at once, idle and absolute timeouts, a new id per login."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time
from sqlalchemy import select

from config import Settings
from outreach import create_app
from outreach.extensions import db
from outreach.models import User, UserSession

from .conftest import PASSWORD, AuthActions, World, csrf_token_of
from .support import cookie_of, session_data

START = datetime(2026, 11, 21, 21, 0, tzinfo=UTC)


def replay(client: FlaskClient, value: str) -> None:
    """Put a saved cookie back, without expiry: what someone who copied it would do."""
    client.set_cookie("session", value)


def sessions_of(app: Flask, user_id: int) -> list[UserSession]:
    with app.app_context():
        rows = db.session.scalars(
            select(UserSession).where(UserSession.user_id == user_id).order_by(UserSession.id)
        ).all()
        db.session.expunge_all()
        return list(rows)


def logged_in(client: FlaskClient) -> bool:
    response = client.get("/patrols")
    if response.status_code == 200:
        return True
    assert response.location.startswith("/login"), response.location
    return False


def test_the_cookie_carries_a_random_session_id_stored_only_as_a_digest(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    auth.login_as(world, "worker")
    token = session_data(app, client)["_user_id"]
    assert token != str(world.id_of("worker")) and len(token) >= 40
    (record,) = sessions_of(app, world.id_of("worker"))
    assert record.token_hash == hashlib.sha256(token.encode()).hexdigest()
    with app.app_context():
        stored = db.session.scalars(select(UserSession.token_hash)).all()
    assert token not in stored


def test_each_login_gets_a_new_session_id(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    auth.login_as(world, "worker")
    first = session_data(app, client)["_user_id"]
    auth.logout()
    auth.login_as(world, "worker")
    second = session_data(app, client)["_user_id"]
    assert first != second
    assert [s.revoked_reason for s in sessions_of(app, world.id_of("worker"))] == ["logout", None]


def test_logout_ends_the_session_on_the_server(
    client: FlaskClient, auth: AuthActions, world: World
) -> None:
    auth.login_as(world, "worker")
    saved = cookie_of(client)
    assert auth.logout().status_code == 302
    replay(client, saved)
    assert not logged_in(client)


def test_a_password_change_ends_every_other_session_and_renews_its_own(
    app: Flask, auth: AuthActions, world: World
) -> None:
    phone, laptop = app.test_client(), app.test_client()
    AuthActions(phone).login_as(world, "worker")
    AuthActions(laptop).login_as(world, "worker")
    saved = cookie_of(phone)
    token = csrf_token_of(phone.get("/account/password"))
    response = phone.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": PASSWORD,
            "new_password": "a new and long passphrase",
            "confirm": "a new and long passphrase",
        },
    )
    assert response.status_code == 302
    assert logged_in(phone), "the session that changed the password goes on"
    assert not logged_in(laptop)
    replay(phone, saved)
    assert not logged_in(phone), "the cookie saved before the change no longer works"


def test_deactivation_ends_the_sessions_at_once(app: Flask, world: World) -> None:
    worker, supervisor = app.test_client(), app.test_client()
    AuthActions(worker).login_as(world, "worker")
    AuthActions(supervisor).login_as(world, "supervisor")
    assert logged_in(worker)
    token = csrf_token_of(supervisor.get("/accounts"))
    response = supervisor.post(
        f"/accounts/{world.id_of('worker')}/active",
        data={"csrf_token": token, "active": "0", "confirmed": "1"},
    )
    assert response.status_code == 302
    assert not logged_in(worker)
    assert [s.revoked_reason for s in sessions_of(app, world.id_of("worker"))] == ["deactivated"]


def test_a_deactivated_user_is_refused_even_if_a_session_row_was_left_live(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    auth.login_as(world, "worker")
    with app.app_context():
        user = db.session.get(User, world.id_of("worker"))
        assert user is not None
        user.active = False  # behind the app's back: no revocation
        db.session.commit()
    assert not logged_in(client)


def test_idle_timeout_is_two_hours_by_default_and_activity_keeps_the_session(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    with freeze_time(START) as clock:
        auth.login_as(world, "worker")
        saved = cookie_of(client)
        clock.tick(timedelta(minutes=110))
        replay(client, saved)
        assert logged_in(client)
        clock.tick(timedelta(minutes=110))  # 220 minutes after the login, 110 after the last use
        replay(client, saved)
        assert logged_in(client)
        clock.tick(timedelta(minutes=121))
        replay(client, saved)
        assert not logged_in(client)
    (record,) = sessions_of(app, world.id_of("worker"))
    assert record.revoked_reason == "idle"


def test_absolute_timeout_of_twelve_hours_whatever_the_activity(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    with freeze_time(START) as clock:
        auth.login_as(world, "worker")
        for _ in range(7):  # a request every 100 minutes: never idle
            clock.tick(timedelta(minutes=100))
            replay(client, cookie_of(client))
            assert logged_in(client)
        latest = cookie_of(client)  # signed 30 minutes ago: Flask itself still accepts it
        clock.tick(timedelta(minutes=30))  # 12 h 10 after the login
        replay(client, latest)
        assert not logged_in(client)
    (record,) = sessions_of(app, world.id_of("worker"))
    assert record.revoked_reason == "expired"


def test_idle_timeout_is_configurable(settings: Settings, world: World, app: Flask) -> None:
    short = create_app(replace(settings, session_idle_minutes=15))
    client = short.test_client()
    with freeze_time(START) as clock:
        AuthActions(client).login_as(world, "worker")
        clock.tick(timedelta(minutes=16))
        assert not logged_in(client)
    with short.app_context():
        db.session.remove()
        db.engine.dispose()


def test_last_seen_is_written_at_most_once_a_minute(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    with freeze_time(START) as clock:
        auth.login_as(world, "worker")
        clock.tick(timedelta(seconds=30))
        assert logged_in(client)
        assert sessions_of(app, world.id_of("worker"))[0].last_seen_at == START
        clock.tick(timedelta(seconds=40))
        assert logged_in(client)
        assert sessions_of(app, world.id_of("worker"))[0].last_seen_at == START + timedelta(
            seconds=70
        )
