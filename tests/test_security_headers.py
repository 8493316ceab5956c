"""Headers and cookies on every response; no inline code; error pages without tracebacks."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from config import Settings
from outreach import create_app
from outreach.extensions import db

from .conftest import AuthActions, World, production_settings, text_of
from .test_access import ROLE_MATRIX, rules

PRODUCTION_DATABASE = "postgresql+psycopg://nobody@127.0.0.1:1/never_connected"
PRODUCTION_REDIS = "redis://127.0.0.1:1/0"  # never reached either
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|\sstyle=|\son[a-z]+=", re.IGNORECASE)


def assert_security_headers(response: TestResponse, *, cached: bool = False) -> None:
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "style-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert "geolocation=()" in headers["Permissions-Policy"]
    if not cached:
        assert headers["Cache-Control"] == "no-store"


def boom() -> str:
    raise RuntimeError("secret detail that must not reach the page")


def test_headers_on_public_pages_errors_and_the_api(app: Flask, client: FlaskClient) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.view_functions["health.healthz"] = boom  # a public endpoint that fails: a 500
    responses = {
        "login": client.get("/login"),
        "404": client.get("/no-such-page"),
        "405": client.get("/logout"),
        "500": client.get("/healthz"),
        "api 401": client.post("/api/v1/contacts", json={}),
        "api 404": client.get("/api/v1/nothing"),
        "openapi": client.get("/api/v1/openapi.json"),
        "413": client.post("/login", data={"email": "x" * (3 * 1024 * 1024)}),
    }
    statuses = {name: response.status_code for name, response in responses.items()}
    assert statuses == {
        "login": 200,
        "404": 404,
        "405": 405,
        "500": 500,
        "api 401": 401,
        "api 404": 404,
        "openapi": 200,
        "413": 413,
    }
    for response in responses.values():
        assert_security_headers(response)
    assert_security_headers(client.get("/static/css/app.css"), cached=True)
    assert "secret detail" not in text_of(responses["500"])


@pytest.mark.parametrize("role", ["worker", "supervisor", "funder", "admin"])
def test_every_authenticated_page_is_no_store_and_free_of_inline_code(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World, role: str
) -> None:
    auth.login_as(world, role)
    seen = 0
    for endpoint, url, methods in rules(app):
        if "GET" not in methods or role not in ROLE_MATRIX.get(endpoint, ()):
            continue
        response = client.get(url, follow_redirects=True)
        assert_security_headers(response)
        if response.mimetype == "text/html":
            page = response.get_data(as_text=True)
            assert not INLINE_SCRIPT.search(page), endpoint
            assert not INLINE_STYLE.search(page), (endpoint, INLINE_STYLE.search(page))
        seen += 1
    assert seen >= 3


def test_session_cookie_is_httponly_and_samesite_in_development(
    client: FlaskClient, auth: AuthActions, world: World
) -> None:
    auth.login_as(world, "worker")
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    assert not cookie.secure


@pytest.fixture
def production_app(settings: Settings) -> Iterator[Flask]:
    """Production settings; the database is never reached by the requests below."""
    app = create_app(production_settings(settings, PRODUCTION_DATABASE, PRODUCTION_REDIS))
    yield app
    with app.app_context():
        db.engine.dispose()


def test_production_sends_hsts_and_a_secure_host_only_cookie(production_app: Flask) -> None:
    client = production_app.test_client()
    response = client.get("/login", base_url="https://maraudes.example")
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"].startswith("max-age=63072000")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-session=")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Domain=" not in cookie and "Path=/" in cookie
    assert_security_headers(client.get("/nothing-here"))


def test_production_500_shows_an_incident_id_and_logs_the_traceback(
    production_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    production_app.view_functions["health.healthz"] = boom
    with caplog.at_level(logging.ERROR):
        response = production_app.test_client().get("/healthz")
    assert response.status_code == 500
    page = text_of(response)
    incident = re.search(r"Référence de l'incident : ([0-9a-f]{12})", page)
    assert incident, page
    assert "Traceback" not in page and "RuntimeError" not in page and "secret detail" not in page
    assert_security_headers(response)
    assert f"incident {incident.group(1)}" in caplog.text and "RuntimeError" in caplog.text


def test_max_content_length_refuses_big_bodies_everywhere(
    client: FlaskClient, auth: AuthActions, world: World
) -> None:
    auth.login_as(world, "worker")
    token = auth.page_token()
    big = "[" + ",".join(["{}"] * 700_000) + "]"
    response = client.post(
        "/api/v1/contacts",
        data=big,
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 413
    assert response.get_json()["error"] == 413
    assert_security_headers(response)
