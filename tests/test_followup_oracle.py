"""Follow-up by code is no oracle: lookups are throttled per account and per association,
each is audited without the code, and the looked-up person stays on the server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from config import Settings
from outreach import create_app
from outreach.extensions import db
from outreach.models import AuditEntry

from .conftest import AuthActions, World, make_world, reset_database, text_of
from .support import find, log_contact, session_data

CODE = "Éli 1990"


@pytest.fixture
def tight(settings: Settings, _schema: None) -> Iterator[tuple[Flask, World]]:
    """The app with small follow-up budgets (3 lookups per account, 5 per association)."""
    app = create_app(
        replace(
            settings,
            followup_limit_account="3 per hour",
            followup_limit_association="5 per hour",
            followup_unusual_per_week=3,
        )
    )
    with app.app_context():
        reset_database()
    yield app, make_world(app, settings)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def lookup(client: FlaskClient, auth: AuthActions, code: str) -> int:
    token = auth.page_token("/followup")
    return client.post("/followup", data={"csrf_token": token, "person_code": code}).status_code


def test_the_session_cookie_never_holds_the_looked_up_pseudonym(
    client: FlaskClient, auth: AuthActions, app: Flask, world: World
) -> None:
    auth.login_as(world, "worker")
    log_contact(client, auth, app, world)
    find(client, auth, CODE)
    data = session_data(app, client)
    assert set(data) <= {"_user_id", "_fresh", "_id", "_permanent", "csrf_token", "_flashes"}, data
    assert "115 / SIAO" in text_of(client.get("/followup/person")), "the person is still shown"


def test_another_session_of_the_same_account_does_not_see_the_person(
    app: Flask, world: World
) -> None:
    first, second = app.test_client(), app.test_client()
    first_auth, second_auth = AuthActions(first), AuthActions(second)
    first_auth.login_as(world, "worker")
    log_contact(first, first_auth, app, world)
    find(first, first_auth, CODE)
    second_auth.login_as(world, "worker")
    assert second.get("/followup/person").location == "/followup"


def test_each_lookup_is_audited_without_the_code_or_the_pseudonym(
    client: FlaskClient, auth: AuthActions, app: Flask, world: World
) -> None:
    auth.login_as(world, "worker")
    log_contact(client, auth, app, world)
    find(client, auth, CODE)
    find(client, auth, "zz 1950")
    with app.app_context():
        entries = list(
            db.session.scalars(select(AuditEntry).where(AuditEntry.action == "followup.lookup"))
        )
        assert len(entries) == 2
        assert [entry.details.get("found") for entry in entries] == [True, False]
        assert all(entry.actor_id == world.id_of("worker") for entry in entries)
        assert all(entry.association_id == world.demo.id for entry in entries)
        text = " ".join(str(entry.details) for entry in entries).lower()
    assert "eli" not in text and "1990" not in text and "zz" not in text


def test_lookups_beyond_the_accounts_budget_are_refused_and_audited(
    tight: tuple[Flask, World],
) -> None:
    tight_app, world = tight
    client = tight_app.test_client()
    auth = AuthActions(client)
    auth.login_as(world, "worker")
    assert [lookup(client, auth, f"ab {1980 + n}") for n in range(3)] == [302, 302, 302]
    refused = client.post(
        "/followup", data={"csrf_token": auth.page_token("/followup"), "person_code": "ab 1999"}
    )
    assert refused.status_code == 429
    assert "recherches" in refused.get_data(as_text=True)
    with tight_app.app_context():
        actions = list(db.session.scalars(select(AuditEntry.action)))
    assert actions.count("followup.lookup") == 3
    assert actions.count("followup.throttled") == 1
    supervisor = tight_app.test_client()
    AuthActions(supervisor).login_as(world, "supervisor")
    assert "inhabituel" in text_of(supervisor.get("/team")), "the volume is flagged"


def test_the_association_shares_one_budget(tight: tuple[Flask, World]) -> None:
    tight_app, world = tight
    codes = iter(f"cd {1960 + n}" for n in range(20))
    statuses = []
    for key in ("worker", "worker2"):
        client = tight_app.test_client()
        auth = AuthActions(client)
        auth.login_as(world, key)
        statuses += [lookup(client, auth, next(codes)) for _ in range(3)]
    assert statuses == [302] * 5 + [429]
    other = tight_app.test_client()
    other_auth = AuthActions(other)
    other_auth.login_as(world, "other_worker")
    assert lookup(other, other_auth, next(codes)) == 302, "another association's budget"


def test_supervisors_see_lookup_volumes_per_account(
    client: FlaskClient, auth: AuthActions, app: Flask, world: World
) -> None:
    auth.login_as(world, "worker")
    for n in range(3):
        find(client, auth, f"ef {1970 + n}")
    auth.logout()
    auth.login_as(world, "supervisor")
    page = text_of(client.get("/team"))
    assert "Recherches par code, 7 derniers jours" in page
    assert re.search(r"<td>Worker</td><td>3</td>", page), "three lookups by the worker"
    assert "inhabituel" not in page
