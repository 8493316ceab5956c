"""A person code typed everywhere it can be typed is found nowhere afterwards.

Not in the database (any table, any column), the logs (SQL included), the weekly exports,
the audit log, the session cookie, or the pages and API answers sent back.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from outreach.clock import iso_week_of, now_utc
from outreach.extensions import db
from outreach.models import AuditEntry

from .conftest import AuthActions, World, csrf_token_of
from .support import open_form, session_data, start, typical

TYPED = ("Zqx-Plant 1987", "ZQX PLANT 1987", "zqxplant1987", "Žqx plänt 1987")
NEEDLES = ("zqxplant1987", "zqx-plant", "zqx plant", "plant 1987", "zqxplänt")


def found_in(text: str) -> list[str]:
    folded = text.casefold()
    return [needle for needle in NEEDLES if needle in folded]


def contact_json(code: str, patrol_id: int, **changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "id": str(uuid.uuid4()),
        "occurred_at": (datetime.now(UTC) - timedelta(minutes=2)).isoformat(),
        "zone": "stalingrad",
        "patrol_id": patrol_id,
        "person_code": code,
        "gender": "male",
        "age_band": "35_44",
        "housing": "squat",
        "needs": ["food"],
        "materials": {"kit_base": 1},
        "referrals": [{"destination": "caarud", "accompanied": False}],
    }
    body.update(changes)
    return body


def database_dump(app: Flask) -> str:
    with app.app_context():
        lines = []
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(select(table)):
                lines.append(f"{table.name}: {tuple(row)!r}")
        return "\n".join(lines)


def test_a_planted_person_code_never_appears_anywhere(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    world: World,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    sent_back: list[str] = []

    auth.login_as(world, "worker")
    patrol_id = start(client, auth, app, world)
    for code in TYPED[:2]:  # the HTML form: saved, then refused (no zone) with the code
        saved = client.post(
            f"/patrols/{patrol_id}/contacts/new",
            data=typical(open_form(client, patrol_id), person_code=code),
        )
        assert saved.status_code == 302
        refused = client.post(
            f"/patrols/{patrol_id}/contacts/new",
            data=typical(open_form(client, patrol_id), person_code=code, zone="nowhere"),
        )
        assert refused.status_code == 422
        sent_back += [saved.get_data(as_text=True), refused.get_data(as_text=True)]
    token = auth.page_token()
    headers = {"X-CSRFToken": token}
    api = [
        client.post("/api/v1/contacts", json=contact_json(TYPED[2], patrol_id), headers=headers),
        client.post(
            "/api/v1/contacts",
            json=[contact_json(TYPED[3], patrol_id), contact_json(TYPED[2], patrol_id, zone="x")],
            headers=headers,
        ),
        client.post(
            "/api/v1/contacts",
            json=contact_json(TYPED[0], patrol_id, gender="?"),
            headers=headers,
        ),
    ]
    assert [r.status_code for r in api] == [201, 200, 422]
    sent_back += [r.get_data(as_text=True) for r in api]
    token = csrf_token_of(client.get("/followup"))
    found = client.post("/followup", data={"csrf_token": token, "person_code": TYPED[3]})
    assert found.location == "/followup/person"
    person = client.get("/followup/person")
    assert person.get_data(as_text=True).count('class="referral') >= 4, "all four found again"
    sent_back += [found.get_data(as_text=True), person.get_data(as_text=True)]
    cookie = str(session_data(app, client))

    runner = app.test_cli_runner()
    week = iso_week_of(now_utc())
    exports = [
        runner.invoke(args=["outreach", "export", "--org", "demo", "--week", week, "--kind", kind])
        for kind in ("contacts", "indicators")
    ]
    assert [e.exit_code for e in exports] == [0, 0], [e.output for e in exports]
    assert exports[0].output.count("\n") >= 5, "header and the four contacts"

    with app.app_context():
        audit_log = repr([(e.action, e.details) for e in db.session.scalars(select(AuditEntry))])
    places = {
        "database": database_dump(app),
        "logs": caplog.text,
        "exports": "".join(e.output for e in exports),
        "audit log": audit_log,
        "session cookie": cookie,
        "responses": "\n".join(sent_back),
    }
    assert "SELECT" in places["logs"], "the SQL log was captured"
    assert {place: found_in(text) for place, text in places.items()} == {
        place: [] for place in places
    }
