"""The supervisor's, funder's and admin's pages, and the health check."""

from __future__ import annotations

from dataclasses import replace

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from config import Settings
from outreach import create_app
from outreach.clock import now_utc
from outreach.extensions import db
from outreach.funders.services import complete_weeks, protected
from outreach.models import Contact

from .conftest import AuthActions, World, text_of
from .test_capture_views import open_form, start, typical


def test_supervisor_sees_own_association_week_only(
    client: FlaskClient, auth: AuthActions, app: Flask, world: World
) -> None:
    auth.login_as(world, "worker")
    patrol_id = start(client, auth, app, world)
    for _ in range(3):
        client.post(
            f"/patrols/{patrol_id}/contacts/new", data=typical(open_form(client, patrol_id))
        )
    auth.logout()

    auth.login_as(world, "supervisor")
    page = text_of(client.get("/team"))
    assert "Maraude Démo" in page
    assert '<span class="count-number">3</span>' in page
    assert "Stalingrad" in page and "Worker2" in page
    auth.logout()

    auth.login_as(world, "other_supervisor")
    page = text_of(client.get("/team"))
    assert '<span class="count-number">0</span>' in page
    assert "Worker2" not in page
    assert client.get(f"/patrols/{patrol_id}").status_code == 404


def test_protected_counts() -> None:
    assert [protected(n) for n in (0, 1, 4, 5, 120)] == [0, None, None, 5, 120]
    assert protected(9, threshold=10) is None


def test_funder_summary_hides_small_weekly_counts(
    client: FlaskClient, auth: AuthActions, app: Flask, world: World
) -> None:
    auth.login_as(world, "worker")
    patrol_id = start(client, auth, app, world)
    for _ in range(3):
        client.post(
            f"/patrols/{patrol_id}/contacts/new", data=typical(open_form(client, patrol_id))
        )
    auth.logout()
    with app.app_context():  # move them into the last complete week
        last_week = complete_weeks(now_utc(), 1)[0]
        db.session.execute(update(Contact).values(iso_week=last_week))
        db.session.commit()

    auth.login_as(world, "funder")
    page = text_of(client.get("/summary"))
    assert f"<td>{last_week}</td><td>< 5</td>" in page
    assert "Éli" not in page and "Stalingrad" not in page


def test_admin_overview(client: FlaskClient, auth: AuthActions, world: World) -> None:
    auth.login_as(world, "admin")
    page = text_of(client.get("/admin"))
    assert "Maraude Démo" in page and "Autre Association" in page
    assert "funder@platform.test" in page
    assert "Porte de la Chapelle" in page


def test_healthz_reports_a_migrated_database(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["database"]["state"] == "ok"
    assert body["database"]["migrations"] == "current"


def test_healthz_answers_503_when_the_database_is_unreachable(settings: Settings) -> None:
    unreachable = replace(
        settings, database_url="postgresql+psycopg://nobody@127.0.0.1:1/nowhere?connect_timeout=2"
    )
    app = create_app(unreachable)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": {"state": "unreachable"}}
