"""Hostile input gets a 4xx with a message, never a 500: NUL bytes, deep JSON, absurd weeks.

PostgreSQL refuses NUL characters in text, so before the guard a NUL byte reached the
database and came back as a 500; SQLite stored it. Both databases must answer alike.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from outreach.extensions import db
from outreach.models import Contact, Patrol, Zone

from .conftest import AuthActions, World, csrf_token_of
from .support import api_for, contact, rows

NUL_MESSAGE = "caractère nul"


def test_a_nul_byte_in_the_login_address_is_refused(client: FlaskClient, app: Flask) -> None:
    token = csrf_token_of(client.get("/login"))
    response = client.post(
        "/login",
        data={"email": "worker@demo.test\x00", "password": "x" * 12, "csrf_token": token},
    )
    assert response.status_code == 400
    assert NUL_MESSAGE in response.get_data(as_text=True)


def test_a_nul_byte_in_a_patrol_report_is_refused_and_changes_nothing(
    client: FlaskClient, auth: AuthActions, world: World, app: Flask
) -> None:
    auth.login_as(world, "worker")
    token = auth.page_token("/patrols/new")
    with app.app_context():
        zone_id = db.session.scalar(select(Zone.id).where(Zone.code == "stalingrad"))
    started = client.post("/patrols/new", data={"zone": str(zone_id), "csrf_token": token})
    assert started.status_code == 302
    patrol_id = int(re.search(r"/patrols/(\d+)", started.location).group(1))
    response = client.post(
        f"/patrols/{patrol_id}/end",
        data={
            "people_seen_not_met": "0",
            "atmosphere": "calm",
            "used_material_collected": "0",
            "site_observations": "rien\x00à signaler",
            "csrf_token": token,
        },
    )
    assert response.status_code == 400
    assert NUL_MESSAGE in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Patrol, patrol_id).ended_at is None


@pytest.mark.parametrize(
    ("role", "path", "parameter"),
    [
        ("supervisor", "/reports/associations/demo", "week"),
        ("supervisor", "/reports/definitions", "lang"),
        ("funder", "/summary", "period"),
        ("funder", "/summary", "indicator"),
        ("funder", "/summary/export.csv", "period"),
        ("worker", "/patrols", "saved"),
    ],
)
def test_a_nul_byte_in_a_query_string_is_never_a_server_error(
    client: FlaskClient, auth: AuthActions, world: World, role: str, path: str, parameter: str
) -> None:
    auth.login_as(world, role)
    response = client.get(path, query_string={parameter: "x\x00y"})
    assert response.status_code < 500, (path, parameter)


def test_a_nul_byte_in_api_json_is_refused_with_json(
    client: FlaskClient, auth: AuthActions, world: World, app: Flask
) -> None:
    api = api_for(client, auth, world)
    response = api.post(contact(person_code="ab\x001990"))
    assert response.status_code == 422
    assert response.is_json and NUL_MESSAGE in str(response.get_json())
    assert rows(app) == 0


@pytest.mark.parametrize("depth", [1_000, 50_000, 200_000])
def test_deeply_nested_json_is_refused(
    client: FlaskClient, auth: AuthActions, world: World, app: Flask, depth: int
) -> None:
    api = api_for(client, auth, world)
    body = "[" * depth + "]" * depth
    response = client.post(
        "/api/v1/contacts",
        data=body,
        content_type="application/json",
        headers={"X-CSRFToken": api.token},
    )
    assert 400 <= response.status_code < 500
    assert response.is_json
    with app.app_context():
        assert db.session.scalar(select(func.count(Contact.id))) == 0


@pytest.mark.parametrize("week", ["0001-W01", "0000-W01", "9999-W52", "1899-W10"])
def test_weeks_out_of_the_apps_range_are_not_found(
    client: FlaskClient, auth: AuthActions, world: World, week: str
) -> None:
    auth.login_as(world, "supervisor")
    for path in (
        "/reports/associations/demo",
        "/reports/associations/demo/export/contacts.csv",
        "/reports/associations/demo/export/indicators.csv",
    ):
        response = client.get(path, query_string={"week": week})
        assert response.status_code == 404, (path, week)


def test_the_export_command_refuses_a_week_out_of_range(app: Flask, world: World) -> None:
    result = app.test_cli_runner().invoke(
        args=["outreach", "export", "--org", "demo", "--week", "0001-W01", "--kind", "contacts"]
    )
    assert result.exit_code != 0
    assert "0001-W01" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
