"""Login against an adversary: where it redirects (`next`), what body it takes (the lockout
keys on the form), and the first login of an account created in the interface."""

from __future__ import annotations

import re

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from .conftest import PASSWORD, AuthActions, World, csrf_token_of, text_of, totp_code_for
from .support import create, temporary_password

HOSTILE_NEXT = [
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "/%0A/x",
    "\t//evil.example",
    " //evil.example",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "\\/evil.example",
    "/%5Cevil.example",
    "/%2F/evil.example",
    "%2F%2Fevil.example",
    "/%09/evil.example",
    "https://evil.example/",
    "https:evil.example",
    "http:/evil.example",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "data:text/html,x",
    "evil.example",
    "/\uff0f\uff0fevil.example",
    "/\u2028/evil.example",
    "/\x00/x",
    "/nowhere",
    "/team\t",
]
HOMES = {"worker": "/patrols", "supervisor": "/team"}


def login_with_next(client: FlaskClient, email: str, target: str) -> TestResponse:
    token = csrf_token_of(client.get("/login"))
    return client.post(
        "/login",
        query_string={"next": target},
        data={"email": email, "password": PASSWORD, "csrf_token": token},
    )


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_a_hostile_next_after_the_password_leads_home(
    client: FlaskClient, world: World, target: str
) -> None:
    response = login_with_next(client, world.users["worker"].email, target)
    assert response.status_code == 302
    assert response.location == HOMES["worker"]


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_a_hostile_next_after_the_second_factor_leads_home(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World, target: str
) -> None:
    code = totp_code_for(app, world.id_of("supervisor"))
    response = login_with_next(client, world.users["supervisor"].email, target)
    assert response.status_code == 302 and response.location == "/login/code"
    response = auth.second_factor(code)
    assert response.status_code == 302
    assert response.location == HOMES["supervisor"]


@pytest.mark.parametrize(
    ("key", "target"),
    [
        ("worker", "/followup"),
        ("worker", "/patrols/new"),
        ("supervisor", "/reports/associations/demo?week=2026-W10"),
    ],
)
def test_a_page_of_the_site_is_where_the_login_leads(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World, key: str, target: str
) -> None:
    if key == "supervisor":
        code = totp_code_for(app, world.id_of(key))
    response = login_with_next(client, world.users[key].email, target)
    if key == "supervisor":
        response = auth.second_factor(code)
    assert response.status_code == 302 and response.location == target


def test_a_page_asked_for_before_login_is_reached_after_it(
    client: FlaskClient, world: World
) -> None:
    asked = client.get("/followup")
    assert asked.status_code == 302
    login_page = asked.location
    token = csrf_token_of(client.get(login_page))
    response = client.post(
        login_page,
        data={"email": world.users["worker"].email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.location.startswith("/followup")


def fail_five_times(client: FlaskClient, email: str) -> str:
    token = csrf_token_of(client.get("/login"))
    for _ in range(5):
        response = client.post(
            "/login", data={"email": email, "password": "wrong password", "csrf_token": token}
        )
        assert response.status_code == 401
    return token


def logged_in(client: FlaskClient) -> bool:
    return client.get("/patrols").status_code == 200


def test_after_five_failures_no_body_logs_in_with_the_right_password(
    client: FlaskClient, world: World
) -> None:
    email = world.users["worker"].email
    token = fail_five_times(client, email)
    attempts = {
        "form": {"data": {"email": email, "password": PASSWORD, "csrf_token": token}},
        "json": {
            "json": {"email": email, "password": PASSWORD, "csrf_token": token},
            "headers": {"X-CSRFToken": token},
        },
        "multipart": {
            "data": {"email": email, "password": PASSWORD, "csrf_token": token},
            "content_type": "multipart/form-data",
        },
        "query": {
            "query_string": {"email": email, "password": PASSWORD},
            "data": {"csrf_token": token},
        },
    }
    for body, arguments in attempts.items():
        response = client.post("/login", **arguments)
        assert response.status_code in (415, 422, 429), (body, response.status_code)
        assert not logged_in(client), body


def test_a_json_login_is_refused_with_a_message(client: FlaskClient, world: World) -> None:
    token = csrf_token_of(client.get("/login"))
    response = client.post(
        "/login",
        json={"email": world.users["worker"].email, "password": PASSWORD},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 415
    assert "formulaire de connexion" in text_of(response)
    assert not logged_in(client)


SECRET = re.compile(r'<code class="secret-key">([^<]+)</code>')
NEW_PASSWORD = "a new passphrase for the first night"


def first_login(app: Flask, email: str, temporary: str) -> FlaskClient:
    """Temporary password, new password, second factor if the role requires it."""
    newcomer = AuthActions(app.test_client())
    client = newcomer.client
    assert newcomer.login(email, temporary).status_code == 302
    response = client.get("/")
    assert response.status_code == 302 and response.location == "/account/password"
    page = client.get("/account/password")
    assert page.status_code == 200, page.location
    response = client.post(
        "/account/password",
        data={
            "csrf_token": csrf_token_of(page),
            "current_password": temporary,
            "new_password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302, text_of(response)
    response = client.get(response.location)
    if response.status_code == 302 and response.location == "/account/second-factor":
        page = client.get("/account/second-factor")
        assert page.status_code == 200, page.location
        match = SECRET.search(text_of(page))
        assert match
        code = pyotp.TOTP(re.sub(r"\s", "", match.group(1))).now()
        enrolled = client.post(
            "/account/second-factor", data={"csrf_token": csrf_token_of(page), "code": code}
        )
        assert enrolled.status_code == 200 and "Codes de secours" in text_of(enrolled)
    return client


@pytest.mark.parametrize(
    ("creator", "role", "home"),
    [
        ("admin", "supervisor", "/team"),
        ("admin", "funder", "/summary"),
        ("admin", "admin", "/admin"),
        ("admin", "worker", "/patrols"),
        ("supervisor", "worker", "/patrols"),
    ],
)
def test_an_account_created_in_the_interface_can_log_in(
    app: Flask, auth: AuthActions, world: World, creator: str, role: str, home: str
) -> None:
    auth.login_as(world, creator)
    association = "" if role in ("funder", "admin") else str(world.demo.id)
    temporary = temporary_password(
        create(auth, email="new@demo.test", display_name="New", role=role, association=association)
    )
    client = first_login(app, "new@demo.test", temporary)
    response = client.get("/")
    assert response.status_code == 302 and response.location == home
    assert client.get(home).status_code == 200
