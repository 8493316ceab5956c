"""The database down, frozen or stuck: a 503 that says so, in seconds, never a 500.

Error pages need no database: the language comes from the device (cookie,
Accept-Language), not from the account. Pages answer an HTML 503 and the API a JSON 503,
both with `Retry-After` and the usual security headers; the log says "database
unreachable" once per burst, without a traceback. The PostgreSQL tests start a cluster
of their own on a free port (initdb, pg_ctl), stop it, freeze it (SIGSTOP) and hold a
lock in it, with phones posting contacts meanwhile. Measured: every answer within 5 s,
every 5xx a 503 with `Retry-After`, contacts lost and duplicated 0 once the phones have
sent again what was refused, and the service back within seconds of the fault's end.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import create_engine, func, select, text
from werkzeug.test import TestResponse

from config import Settings
from outreach import create_app
from outreach.extensions import db
from outreach.models import Contact

from .conftest import AuthActions, World, make_world
from .faults import MAX_WAIT_SECONDS, PostgresCluster, timed
from .support import contact

PHONES = 3


def assert_unavailable(response: TestResponse) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)[:300]
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["Cache-Control"] == "no-store"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def outage_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    assert not [r.getMessage() for r in caplog.records if r.exc_info], "no traceback"
    return [r.getMessage() for r in caplog.records if "database unreachable" in r.getMessage()]


@pytest.fixture
def logged_in(app: Flask, world: World) -> AuthActions:
    auth = AuthActions(app.test_client())
    auth.login_as(world, "worker")
    return auth


def test_error_pages_need_no_database(
    settings: Settings, logged_in: AuthActions, caplog: pytest.LogCaptureFixture
) -> None:
    """The same session cookie, served by an instance whose database cannot be opened."""
    broken = create_app(replace(settings, database_url="sqlite:////nonexistent/outreach.sqlite3"))
    client = broken.test_client()
    session = logged_in.client.get_cookie("session")
    assert session is not None
    client.set_cookie("session", session.value)
    with caplog.at_level(logging.INFO):
        english = client.get("/patrols", headers={"Accept-Language": "en-GB,en;q=0.8"})
        client.set_cookie("lang", "fr")
        french = client.get("/patrols", headers={"Accept-Language": "en"})
        api = client.post("/api/v1/contacts", json=contact())
        missing = client.get("/no/such/page")
        health = client.get("/healthz")
    for response in (english, french, api, missing):
        assert_unavailable(response)
    assert english.mimetype == "text/html"
    assert '<html lang="en-GB">' in english.get_data(as_text=True)
    assert "The service is unavailable" in english.get_data(as_text=True)
    assert "Le service est indisponible" in french.get_data(as_text=True)
    assert api.get_json()["error"] == 503
    assert health.status_code == 503
    assert len(outage_lines(caplog)) == 1


@pytest.fixture(scope="module")
def cluster() -> Iterator[PostgresCluster]:
    server = PostgresCluster()
    server.init()
    server.start()
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture(scope="module")
def pg_settings(settings: Settings, cluster: PostgresCluster) -> Settings:
    own = replace(settings, database_url=cluster.url)
    app = create_app(own)
    with app.app_context():
        upgrade()
        db.session.remove()
        db.engine.dispose()
    return own


@pytest.fixture(scope="module")
def pg_world(pg_settings: Settings) -> World:
    return make_world(create_app(pg_settings), pg_settings)


@pytest.fixture
def pg_app(pg_settings: Settings) -> Iterator[Flask]:
    app = create_app(pg_settings)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


class Phone:
    """A worker's phone: contacts refused with a 5xx stay queued and are sent again."""

    def __init__(self, app: Flask, world: World) -> None:
        self.client = app.test_client()
        self.auth = AuthActions(self.client)
        self.auth.login_as(world, "worker")
        self.token = self.auth.page_token()
        self.queued: list[dict[str, Any]] = []
        self.confirmed: set[str] = set()

    def move_to(self, app: Flask) -> None:
        """The same session, served by another instance (sessions live in the database)."""
        session = self.client.get_cookie("session")
        assert session is not None
        self.client = app.test_client()
        self.client.set_cookie("session", session.value)

    def capture(self) -> list[TestResponse]:
        self.queued.append(contact(id=str(uuid.uuid4())))
        return self.sync()

    def sync(self) -> list[TestResponse]:
        answers = []
        for body in list(self.queued):
            response = self.client.post(
                "/api/v1/contacts", json=body, headers={"X-CSRFToken": self.token}
            )
            answers.append(response)
            if response.status_code in (200, 201):
                self.queued.remove(body)
                self.confirmed.add(body["id"])
        return answers


def everyone(app: Flask, phones: list[Phone]) -> list[TestResponse]:
    """Every phone captures while someone opens a page and the balancer checks /healthz."""
    page = phones[0].client
    calls = [phone.capture for phone in phones]
    calls += [lambda: [page.get("/patrols")], lambda: [app.test_client().get("/healthz")]]
    results = timed(*calls)
    slowest = max(seconds for _value, seconds in results)
    assert slowest < MAX_WAIT_SECONDS, f"a request waited {slowest:.1f} s"
    return [response for answers, _seconds in results for response in answers]


def back_within(app: Flask, phones: list[Phone], seconds: float) -> float:
    """Seconds until /healthz answers 200 and every queued contact is confirmed."""
    started = time.monotonic()
    while True:
        healthy = app.test_client().get("/healthz").status_code == 200
        failed = [r for phone in phones for r in phone.sync() if r.status_code >= 500]
        if healthy and not failed:
            break
        assert time.monotonic() - started < seconds, f"not back {seconds} s after the fault"
        time.sleep(0.2)
    return time.monotonic() - started


def assert_nothing_lost(app: Flask, phones: list[Phone]) -> None:
    confirmed = set().union(*(phone.confirmed for phone in phones))
    assert not [body for phone in phones for body in phone.queued], "every contact confirmed"
    with app.app_context():
        rows = db.session.scalar(select(func.count(Contact.id)))
        distinct = db.session.scalar(select(func.count(func.distinct(Contact.client_id))))
        stored = {str(value) for value in db.session.scalars(select(Contact.client_id))}
    assert rows == distinct == len(stored), "no contact stored twice"
    assert confirmed <= stored, "no confirmed contact lost"


def assert_every_5xx_is_a_503(answers: list[TestResponse]) -> int:
    failed = [response for response in answers if response.status_code >= 500]
    for response in failed:
        assert_unavailable(response)
    return len(failed)


def test_a_stopped_database_answers_503_then_serves_again(
    pg_app: Flask, pg_world: World, cluster: PostgresCluster, caplog: pytest.LogCaptureFixture
) -> None:
    phones = [Phone(pg_app, pg_world) for _ in range(PHONES)]
    assert assert_every_5xx_is_a_503(everyone(pg_app, phones)) == 0
    with caplog.at_level(logging.INFO):
        cluster.stop()
        try:
            for _ in range(2):
                answers = everyone(pg_app, phones)
                assert assert_every_5xx_is_a_503(answers) == len(answers)
        finally:
            cluster.start()
        back_within(pg_app, phones, 10)
    assert len(outage_lines(caplog)) == 1
    assert_nothing_lost(pg_app, phones)


def test_a_frozen_database_answers_503_within_seconds(
    pg_app: Flask, pg_settings: Settings, pg_world: World, cluster: PostgresCluster
) -> None:
    """The postmaster and every backend stopped (SIGSTOP), as a hung server: an instance
    started then, or whose pool is empty, gives up connecting within the connect timeout.
    A connection already inside a frozen backend waits for it (docs/deploy.md)."""
    phones = [Phone(pg_app, pg_world) for _ in range(PHONES)]
    assert assert_every_5xx_is_a_503(everyone(pg_app, phones)) == 0
    fresh = create_app(pg_settings)
    for phone in phones:
        phone.move_to(fresh)
    cluster.freeze()
    try:
        answers = everyone(fresh, phones)
        assert assert_every_5xx_is_a_503(answers) == len(answers)
    finally:
        cluster.thaw()
    back_within(fresh, phones, 10)
    assert_nothing_lost(fresh, phones)
    with fresh.app_context():
        db.engine.dispose()


def test_a_statement_stuck_behind_a_lock_gives_up_with_503(
    pg_app: Flask, pg_world: World, pg_settings: Settings
) -> None:
    phones = [Phone(pg_app, pg_world) for _ in range(PHONES)]
    holder = create_engine(pg_settings.database_url)
    with holder.connect() as connection:
        connection.execute(text("LOCK TABLE contacts IN ACCESS EXCLUSIVE MODE"))
        answers = everyone(pg_app, phones)
        assert assert_every_5xx_is_a_503(answers) >= PHONES, "the captures wait on the lock"
        connection.rollback()
    holder.dispose()
    back_within(pg_app, phones, 5)
    assert_nothing_lost(pg_app, phones)
