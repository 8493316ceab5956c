"""Production behind its TLS proxy: a browser's same-origin POST passes the CSRF check.

Over HTTPS, Flask-WTF also refuses a POST whose Referer is missing or from another origin
(`WTF_CSRF_SSL_STRICT`). Pages must therefore let browsers send the Referer to this
origin: `Referrer-Policy: same-origin` (with `no-referrer`, every form and every outbox
sync was refused in production). Production runs on PostgreSQL and Redis only.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import make_url

from config import Settings
from outreach import create_app
from outreach.extensions import db

from .conftest import (
    PASSWORD,
    REDIS_URL,
    World,
    csrf_token_of,
    production_settings,
    redis_or_skip,
)

ORIGIN = "https://maraudes.example"


@pytest.fixture
def production(settings: Settings, app: Flask, world: World) -> Iterator[FlaskClient]:
    """A production app on the test database, seen through HTTPS."""
    if make_url(settings.database_url).get_backend_name() != "postgresql":
        pytest.skip("production runs on PostgreSQL only: set TEST_DATABASE_URL to run this")
    redis_or_skip()
    production_app = create_app(production_settings(settings, settings.database_url, REDIS_URL))
    yield production_app.test_client()
    with production_app.app_context():
        db.engine.dispose()


def log_in(client: FlaskClient, world: World, headers: dict[str, str]) -> int:
    page = client.get("/login", base_url=ORIGIN)
    assert page.headers["Referrer-Policy"] == "same-origin"
    response = client.post(
        "/login",
        base_url=ORIGIN,
        data={
            "email": world.users["worker"].email,
            "password": PASSWORD,
            "csrf_token": csrf_token_of(page),
        },
        headers=headers,
    )
    return response.status_code


def test_a_same_origin_login_and_capture_pass_over_https(
    production: FlaskClient, world: World
) -> None:
    assert log_in(production, world, {"Referer": f"{ORIGIN}/login"}) == 302
    home = production.get("/", base_url=ORIGIN, follow_redirects=True)
    assert home.status_code == 200
    token = csrf_token_of(home)
    # The outbox's sync: a fetch from a page of this origin carries that page's address.
    answer = production.post(
        "/api/v1/contacts",
        base_url=ORIGIN,
        json={"id": "not a uuid"},
        headers={"X-CSRFToken": token, "Referer": f"{ORIGIN}/"},
    )
    assert answer.status_code == 422  # past the CSRF check: validation speaks
    assert answer.get_json()["status"] == "invalid"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Referer": "https://elsewhere.example/login"}],
    ids=["no referer", "another origin"],
)
def test_without_a_same_origin_referer_a_post_is_refused_over_https(
    production: FlaskClient, world: World, headers: dict[str, str]
) -> None:
    assert log_in(production, world, headers) == 400
    assert production.get("/", base_url=ORIGIN).status_code == 302  # still logged out
