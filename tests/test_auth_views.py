from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from .conftest import PASSWORD, AuthActions, World, text_of


@pytest.mark.parametrize(
    ("role", "home"),
    [("worker", "/patrols"), ("supervisor", "/team"), ("funder", "/summary"), ("admin", "/admin")],
)
def test_each_role_lands_on_its_own_home(
    client: FlaskClient, auth: AuthActions, world: World, role: str, home: str
) -> None:
    response = auth.login_as(world, role)
    assert response.location == home
    page = client.get(home)
    assert page.status_code == 200
    assert "no-store" in page.headers["Cache-Control"]
    assert client.get("/").location == home


def test_wrong_password_and_unknown_account_get_the_same_answer(
    auth: AuthActions, world: World
) -> None:
    wrong = auth.login(world.users["worker"].email, "not the password at all")
    unknown = auth.login("nobody@demo.test", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    message = "Adresse e-mail ou mot de passe incorrect."
    assert message in text_of(wrong)
    assert message in text_of(unknown)


def test_email_is_case_insensitive(client: FlaskClient, auth: AuthActions, world: World) -> None:
    response = auth.login("  WORKER@demo.TEST ", PASSWORD)
    assert response.status_code == 302


def test_deactivated_account_cannot_log_in(auth: AuthActions, world: World, app) -> None:
    from outreach.extensions import db
    from outreach.models import User

    with app.app_context():
        user = db.session.get(User, world.id_of("worker"))
        assert user is not None
        user.active = False
        db.session.commit()
    assert auth.login(world.users["worker"].email).status_code == 401


def test_login_regenerates_the_session(
    client: FlaskClient, auth: AuthActions, world: World
) -> None:
    client.get("/login")
    before = client.get_cookie("session")
    auth.login_as(world, "worker")
    after = client.get_cookie("session")
    assert after is not None
    assert before is None or before.value != after.value


def test_logout_is_a_post_with_csrf_and_ends_the_session(
    client: FlaskClient, auth: AuthActions, world: World
) -> None:
    auth.login_as(world, "worker")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert client.get("/patrols").status_code == 200
    assert auth.logout().status_code == 302
    assert client.get("/patrols").location.startswith("/login")


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example"])
def test_next_parameter_is_never_an_open_redirect(
    client: FlaskClient, auth: AuthActions, world: World, target: str
) -> None:
    token = auth.csrf_token()
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"email": world.users["worker"].email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.location == "/patrols"


def test_next_parameter_returns_to_the_page_asked_for(
    client: FlaskClient, auth: AuthActions, world: World
) -> None:
    assert client.get("/followup").location == "/login?next=/followup?"
    token = auth.csrf_token()
    response = client.post(
        "/login?next=/followup",
        data={"email": world.users["worker"].email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.location == "/followup"


def test_bad_login_form_is_a_422_in_french(client: FlaskClient, auth: AuthActions) -> None:
    token = auth.csrf_token()
    response = client.post("/login", data={"email": "", "password": "", "csrf_token": token})
    assert response.status_code == 422
    assert "Indiquez votre adresse e-mail." in text_of(response)


def test_security_headers_on_pages_and_errors(client: FlaskClient) -> None:
    for path in ("/login", "/no-such-page"):
        response = client.get(path)
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    assert client.get("/no-such-page").status_code == 404
