"""Helpers shared by the test modules: an example contact, API and form clients, records
of every kind, readers of the app's answers. Fixtures stay in conftest.py."""

from __future__ import annotations

import csv
import io
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from config import get_settings
from outreach.capture.services import load_capture_options, record_contact, start_patrol
from outreach.capture.validation import validate_contact
from outreach.clock import now_utc
from outreach.coverage.services import plan_patrol, tonight
from outreach.extensions import db
from outreach.models import (
    Association,
    Contact,
    PlannedPatrol,
    Referral,
    User,
    Zone,
)
from tests.conftest import AuthActions, World, text_of
from tests.reports_fixtures import W14, Scene, add_contact, paris, scene_fixture  # noqa: F401


def contact(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "occurred_at": (datetime.now(UTC) - timedelta(minutes=3)).isoformat(),
        "zone": "stalingrad",
        "patrol_id": None,
        "person_code": "Éli 1990",
        "gender": "female",
        "age_band": "25_34",
        "housing": "street",
        "first_contact": False,
        "needs": ["shelter", "rdr_material"],
        "materials": {"kit_base": 2, "filter": 4},
        "referrals": [{"destination": "shelter_115", "accompanied": True, "status": "proposed"}],
    }
    body.update(changes)
    return body


class Api:
    def __init__(self, client: FlaskClient, auth: AuthActions) -> None:
        self.client = client
        self.auth = auth
        self.token = ""

    def login(self, world: World, key: str) -> None:
        self.auth.login_as(world, key)
        self.token = self.auth.page_token()

    def post(self, body: Any, token: str | None = None) -> Any:
        headers = {"X-CSRFToken": self.token if token is None else token}
        return self.client.post("/api/v1/contacts", json=body, headers=headers)


def rows(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Contact.id))) or 0


def api_for(client: FlaskClient, auth: AuthActions, world: World, key: str = "worker") -> Api:
    api = Api(client, auth)
    api.login(world, key)
    return api


def zone_id(app: Flask, code: str = "stalingrad") -> int:
    with app.app_context():
        return db.session.scalars(select(Zone.id).where(Zone.code == code)).one()


def start(client: FlaskClient, auth: AuthActions, app: Flask, world: World) -> int:
    token = auth.page_token("/patrols/new")
    response = client.post(
        "/patrols/new",
        data={"csrf_token": token, "zone": zone_id(app), "members": [world.id_of("worker2")]},
    )
    assert response.status_code == 302, text_of(response)
    return int(response.location.rsplit("/", 1)[1])


def open_form(client: FlaskClient, patrol_id: int) -> dict[str, str]:
    page = text_of(client.get(f"/patrols/{patrol_id}/contacts/new"))

    def value_of(name: str) -> str:
        match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page)
        assert match, name
        return match.group(1)

    return {
        "csrf_token": value_of("csrf_token"),
        "id": value_of("id"),
        "occurred_at": value_of("occurred_at"),
        "zone": "stalingrad",
    }


def typical(form: dict[str, str], **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        **form,
        "person_code": "Éli 1990",
        "gender": "female",
        "age_band": "25_34",
        "housing": "street",
        "needs": ["shelter", "rdr_material"],
        "material-kit_base": "2",
        "material-filter": "4",
        "material-mouthpiece": "0",
        "referral-0-destination": "shelter_115",
        "referral-0-accompanied": "1",
        "referral-1-destination": "",
    }
    data.update(changes)
    return data


@dataclass(frozen=True)
class Records:
    patrol_id: int
    contact_id: int
    referral_id: int
    plan_id: int


def make_records(app: Flask, world: World, code: str = "Éli 1990") -> Records:
    """An open patrol of `demo` with one contact (needs, materials, a referral), via services."""
    with app.app_context():
        association = db.session.get(Association, world.demo.id)
        worker = db.session.get(User, world.id_of("worker"))
        zone = db.session.scalars(select(Zone).where(Zone.code == "stalingrad")).one()
        assert association is not None and worker is not None
        now = now_utc()
        patrol = start_patrol(db.session, association, zone, worker, [], now)
        payload = {
            "id": str(uuid.uuid4()),
            "occurred_at": (now - timedelta(minutes=5)).isoformat(),
            "zone": "stalingrad",
            "patrol_id": patrol.id,
            "person_code": code,
            "gender": "female",
            "age_band": "25_34",
            "housing": "street",
            "needs": ["shelter", "rdr_material"],
            "materials": {"kit_base": 2, "filter": 4},
            "referrals": [{"destination": "shelter_115", "accompanied": True}],
        }
        draft, errors = validate_contact(
            payload,
            load_capture_options(db.session, association.id, [payload.get("patrol_id")]),
            now,
        )
        assert draft is not None, errors
        result = record_contact(
            db.session, draft, worker, association, get_settings(app).pseudonym_key, now
        )
        referral_id = db.session.scalars(
            select(Referral.id).where(Referral.contact_id == result.contact_id)
        ).one()
        supervisor = db.session.get(User, world.id_of("supervisor"))
        assert supervisor is not None
        plan_id = db.session.scalar(select(PlannedPatrol.id)) or (
            plan_patrol(
                db.session, supervisor, zone.id, tonight(now) + timedelta(days=1), "night", now
            ).id
        )
        records = Records(patrol.id, result.contact_id, referral_id, plan_id)
        db.session.commit()
        return records


def cookie_of(client: FlaskClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def session_data(app: Flask, client: FlaskClient) -> dict[str, Any]:
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    data: dict[str, Any] = serializer.loads(cookie_of(client))
    return data


def field_error(page: str, field: str) -> str:
    """The message tied to a field: the input names it in its aria-describedby."""
    tag = re.search(rf'<(?:input|select)\b[^>]*\bid="{field}"[^>]*>', page)
    assert tag, field
    described = re.search(r'aria-describedby="([^"]*)"', tag.group(0))
    assert described and f"error-{field}" in described.group(1).split(), tag.group(0)
    match = re.search(rf'<p class="field-error" id="error-{field}">([^<]*)</p>', page)
    assert match, field
    return match.group(1).strip()


def create(auth: AuthActions, **data: str) -> TestResponse:
    token = auth.page_token("/accounts/new")
    return auth.client.post("/accounts/new", data={"csrf_token": token, **data})


TEMPORARY = re.compile(r'<p class="temporary-password"><code>([^<]+)</code></p>')


def temporary_password(response: TestResponse) -> str:
    assert response.status_code == 200, text_of(response)
    match = TEMPORARY.search(text_of(response))
    assert match, "the temporary password is shown once"
    return match.group(1)


def log_contact(
    client: FlaskClient, auth: AuthActions, app: Flask, world: World, **changes: str
) -> None:
    patrol_id = start(client, auth, app, world)
    response = client.post(
        f"/patrols/{patrol_id}/contacts/new", data=typical(open_form(client, patrol_id), **changes)
    )
    assert response.status_code == 302


def find(client: FlaskClient, auth: AuthActions, code: str) -> None:
    token = auth.page_token("/followup")
    response = client.post("/followup", data={"csrf_token": token, "person_code": code})
    assert response.status_code == 302 and response.location == "/followup/person"


def read_csv(body: bytes, delimiter: str = ",") -> list[list[str]]:
    text = body.decode("utf-8")
    assert text.startswith("\ufeff"), "UTF-8 with a byte order mark"
    return list(csv.reader(io.StringIO(text[1:], newline=""), delimiter=delimiter))
