"""Throttling of logins and codes: per account and per address, alike for unknown accounts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from config import Settings
from outreach import create_app
from outreach.auth.throttle import current_limiter
from outreach.extensions import db
from outreach.models import AuditEntry

from .conftest import PASSWORD, AuthActions, World, csrf_token_of, enrol_totp, text_of

WRONG = "not the password at all"
THROTTLED = "Trop de tentatives : patientez un peu."
REDIS_URL = "redis://127.0.0.1:6379/15"


def attempt(client: FlaskClient, email: str, password: str, address: str = "127.0.0.1") -> int:
    return post_login(client, email, password, address).status_code


def post_login(
    client: FlaskClient, email: str, password: str, address: str = "127.0.0.1"
) -> TestResponse:
    environ = {"REMOTE_ADDR": address}
    token = csrf_token_of(client.get("/login", environ_base=environ))
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        environ_base=environ,
    )


def entries(app: Flask, action: str) -> list[AuditEntry]:
    with app.app_context():
        rows = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        ).all()
        db.session.expunge_all()
        return list(rows)


def other_app(settings: Settings, **changes: object) -> Iterator[Flask]:
    app = create_app(replace(settings, **changes))  # type: ignore[arg-type]
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_account_a_is_throttled_while_account_b_still_logs_in(app: Flask, world: World) -> None:
    a, b = world.users["worker"].email, world.users["worker2"].email
    client = app.test_client()
    assert [attempt(client, a, WRONG) for _ in range(5)] == [401] * 5
    locked = post_login(client, a, PASSWORD)
    assert locked.status_code == 429, "the right password too, once locked"
    assert THROTTLED in text_of(locked)
    assert attempt(app.test_client(), b, PASSWORD) == 302


def test_an_unknown_account_is_throttled_the_same_way(app: Flask, world: World) -> None:
    client = app.test_client()
    known = [attempt(client, world.users["worker"].email, WRONG) for _ in range(6)]
    unknown = [attempt(client, "nobody@demo.test", WRONG) for _ in range(6)]
    assert known == unknown == [401] * 5 + [429]


def test_successful_logins_do_not_count(app: Flask, world: World) -> None:
    for _ in range(6):
        client = app.test_client()
        assert attempt(client, world.users["worker"].email, PASSWORD) == 302
    client = app.test_client()
    assert [attempt(client, world.users["worker"].email, WRONG) for _ in range(4)] == [401] * 4
    assert attempt(client, world.users["worker"].email, PASSWORD) == 302


def test_one_address_is_throttled_across_accounts(settings: Settings, world: World) -> None:
    for app in other_app(settings, login_limit_ip="3 per 5 minutes"):
        client = app.test_client()
        emails = [world.users[key].email for key in ("worker", "worker2", "other_worker")]
        assert [attempt(client, email, WRONG, "10.0.0.1") for email in emails] == [401] * 3
        assert attempt(client, world.users["supervisor"].email, PASSWORD, "10.0.0.1") == 429
        assert attempt(client, world.users["worker"].email, PASSWORD, "10.0.0.2") == 302


def forwarded_attempt(client: FlaskClient, email: str, password: str, forwarded: str) -> int:
    headers = {"X-Forwarded-For": forwarded}
    token = csrf_token_of(client.get("/login", headers=headers))
    data = {"email": email, "password": password, "csrf_token": token}
    return client.post("/login", data=data, headers=headers).status_code


def test_behind_a_trusted_proxy_the_forwarded_address_counts(
    settings: Settings, world: World
) -> None:
    email = world.users["worker"].email
    for app in other_app(settings, login_limit_ip="2 per 5 minutes", trusted_proxy_hops=1):
        client = app.test_client()
        assert [forwarded_attempt(client, email, WRONG, "10.0.0.1") for _ in range(3)] == [
            401,
            401,
            429,
        ]
        assert forwarded_attempt(app.test_client(), email, PASSWORD, "10.0.0.2") == 302


def test_without_a_trusted_proxy_a_forged_forwarded_header_changes_nothing(
    settings: Settings, world: World
) -> None:
    email = world.users["worker"].email
    for app in other_app(settings, login_limit_ip="2 per 5 minutes"):
        client = app.test_client()
        statuses = [forwarded_attempt(client, email, WRONG, f"10.0.0.{n}") for n in range(3)]
        assert statuses == [401, 401, 429]


def test_failures_and_lockouts_are_audited_despite_the_refusal(app: Flask, world: World) -> None:
    client = app.test_client()
    for _ in range(8):
        attempt(client, world.users["worker"].email, WRONG)
    attempt(client, "nobody@demo.test", WRONG)
    failed = entries(app, "login.failed")
    assert len(failed) == 6
    assert [e.actor_id for e in failed[:5]] == [world.id_of("worker")] * 5
    assert failed[5].actor_id is None and failed[5].details["known_account"] is False
    (locked,) = entries(app, "login.locked")  # once per window, not once per refusal
    assert locked.actor_id == world.id_of("worker")
    assert locked.association_id == world.demo.id
    assert locked.details["scope"] == "account"
    for entry in (*failed, locked):
        assert "nobody" not in str(entry.details) and WRONG not in str(entry.details)


def test_the_code_step_is_throttled_too(app: Flask, world: World) -> None:
    enrol_totp(app, world.id_of("funder"))
    client = app.test_client()
    auth = AuthActions(client)
    assert auth.login(world.users["funder"].email).location == "/login/code"
    assert [auth.second_factor("000000").status_code for _ in range(5)] == [401] * 5
    assert auth.second_factor("000000").status_code == 429
    (locked,) = entries(app, "login.locked")
    assert locked.actor_id == world.id_of("funder")
    assert locked.details["endpoint"] == "auth.login_code"


def test_a_wrong_current_password_is_throttled_on_the_change_page(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    auth.login_as(world, "worker")
    token = csrf_token_of(client.get("/account/password"))
    data = {
        "csrf_token": token,
        "current_password": WRONG,
        "new_password": "a new and long passphrase",
        "confirm": "a new and long passphrase",
    }
    statuses = [client.post("/account/password", data=data).status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]


def test_an_unreachable_redis_falls_back_to_memory(settings: Settings, world: World) -> None:
    for app in other_app(settings, ratelimit_storage_url="redis://127.0.0.1:1/0"):
        client = app.test_client()
        statuses = [attempt(client, world.users["worker"].email, WRONG) for _ in range(6)]
        assert statuses == [401] * 5 + [429]


@pytest.fixture
def redis_app(settings: Settings) -> Iterator[Flask]:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        pytest.skip(f"no Redis on {REDIS_URL}: the shared storage is not exercised here")
    for app in other_app(settings, ratelimit_storage_url=REDIS_URL):
        with app.app_context():
            current_limiter().reset()
        yield app
        with app.app_context():
            current_limiter().reset()


def test_redis_storage_shares_the_counters(redis_app: Flask, world: World) -> None:
    client = redis_app.test_client()
    statuses = [attempt(client, world.users["worker"].email, WRONG) for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    keys = redis.Redis.from_url(REDIS_URL).keys("LIMITS:*")
    assert keys, "the counters live in Redis, where every instance sees them"
    assert not [key for key in keys if b"worker@" in key], "addresses are digested"
