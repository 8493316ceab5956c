"""The supervisor's, funder's and admin's pages, and the health check."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text, update

from config import Settings
from outreach import create_app
from outreach.clock import now_utc
from outreach.extensions import db
from outreach.models import Contact
from outreach.reports.periods import last_complete_week

from .conftest import AuthActions, World, text_of
from .support import open_form, start, typical


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


def test_funder_summary_shows_small_weekly_counts_as_zero(
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
        last_week = last_complete_week(now_utc())
        db.session.execute(update(Contact).values(iso_week=last_week))
        db.session.commit()
        pseudonyms = set(db.session.scalars(select(Contact.pseudonym_association)))

    auth.login_as(world, "funder")
    page = text_of(client.get("/summary"))
    assert f"Semaine {last_week}" in page
    # Three contacts: a small count, published as 0, which the page explains.
    assert re.search(
        r'def-contacts" class="defined">Contacts</a></th>\s*<td class="num">0</td>', page
    )
    assert "« 0 » signifie « aucun ou moins de 8 »" in page
    assert "< 5" not in page and "masqué" not in page
    assert "Éli" not in page and not any(p and p in page for p in pseudonyms)


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


@pytest.mark.parametrize(
    ("stamped", "status", "migrations"),
    [
        ("0005", 503, "pending"),
        ("9999", 200, "ahead"),
        ("3f2a9c1d7b4e", 503, "unknown"),  # no release of this project: another database?
    ],
)
def test_healthz_tells_a_database_behind_from_one_ahead(
    client: FlaskClient, app: Flask, stamped: str, status: int, migrations: str
) -> None:
    """Behind: this code needs `db upgrade`, take it out of service. Ahead: the upgrade of
    docs/deploy.md has run while this older instance serves; it keeps serving."""
    with app.app_context():
        head = db.session.scalar(text("SELECT version_num FROM alembic_version"))
        db.session.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": stamped})
        db.session.commit()
    try:
        response = client.get("/healthz")
    finally:
        with app.app_context():
            db.session.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
            db.session.commit()
    assert response.status_code == status
    assert response.get_json()["database"]["migrations"] == migrations
    assert response.get_json()["database"]["revision"] == stamped
    assert client.get("/healthz").get_json()["database"]["migrations"] == "current"


def test_healthz_answers_503_when_the_database_holds_several_revisions(
    client: FlaskClient, app: Flask
) -> None:
    with app.app_context():
        db.session.execute(text("INSERT INTO alembic_version (version_num) VALUES ('0005')"))
        db.session.commit()
    try:
        response = client.get("/healthz")
    finally:
        with app.app_context():
            db.session.execute(text("DELETE FROM alembic_version WHERE version_num = '0005'"))
            db.session.commit()
    assert response.status_code == 503
    assert response.get_json()["database"]["migrations"] == "several"
    assert client.get("/healthz").status_code == 200


def test_healthz_answers_503_when_the_database_is_unreachable(settings: Settings) -> None:
    unreachable = replace(
        settings, database_url="postgresql+psycopg://nobody@127.0.0.1:1/nowhere?connect_timeout=2"
    )
    app = create_app(unreachable)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {
        "status": "error",
        "database": {"state": "unreachable"},
        "rate_limits": {"storage": "memory", "state": "ok"},
    }


def test_the_suppression_threshold_comes_from_the_settings(
    client: FlaskClient, auth: AuthActions, app: Flask, world: World, settings: Settings
) -> None:
    auth.login_as(world, "worker")
    patrol_id = start(client, auth, app, world)
    for _ in range(6):
        client.post(
            f"/patrols/{patrol_id}/contacts/new", data=typical(open_form(client, patrol_id))
        )
    with app.app_context():
        db.session.execute(update(Contact).values(iso_week=last_complete_week(now_utc())))
        db.session.commit()

    stricter = create_app(replace(settings, suppression_threshold=10))
    funder = AuthActions(stricter.test_client())
    funder.login_as(world, "funder")
    page = text_of(funder.client.get("/summary"))
    # Six contacts: under this threshold, published as 0.
    assert re.search(
        r'def-contacts" class="defined">Contacts</a></th>\s*<td class="num">0</td>', page
    )
    assert "moins de 13" in page
