"""Tenancy, walked over the URL map: another association's ids look missing; funders see none.

Every route that takes an id (or an association's slug) is requested with the records of
association `demo` by the accounts of association `other` whose role the route admits:
each answer must be 404, as for an id that does not exist. A funder reaches no record.
A new route with a parameter this file does not know fails the test: say what it names.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from outreach import get_settings
from outreach.capture.services import load_capture_options, record_contact, start_patrol
from outreach.capture.validation import validate_contact
from outreach.clock import now_utc
from outreach.coverage.services import plan_patrol, tonight
from outreach.extensions import db
from outreach.models import Association, PlannedPatrol, Referral, User, Zone

from .conftest import AuthActions, World
from .test_access import ROLE_MATRIX
from .test_capture_views import zone_id

ASSOCIATION_ROLES = ("worker", "supervisor")


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


def id_routes(app: Flask, world: World, records: Records) -> list[tuple[str, str, str]]:
    """(endpoint, URL with demo's ids, method) of every route that takes a parameter."""
    values = {
        "patrol_id": records.patrol_id,
        "contact_id": records.contact_id,
        "referral_id": records.referral_id,
        "plan_id": records.plan_id,
        "user_id": world.id_of("worker"),
        "slug": world.demo.slug,
        "kind": "contacts",  # not an id: which CSV of the association's
        # Administration (admins only): an association, a zone, a taxonomy entry's code.
        "association_id": world.demo.id,
        "zone_id": zone_id(app),
        "code": "shelter",
    }
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.arguments or rule.endpoint == "static":
            continue
        unknown = set(rule.arguments) - set(values)
        assert not unknown, f"{rule.endpoint}: say which record {unknown} names"
        url = rule.build({name: values[name] for name in rule.arguments}, append_unknown=False)
        assert url is not None
        methods = set(rule.methods or ()) - {"HEAD", "OPTIONS"}
        found.append((rule.endpoint, url[1], "GET" if "GET" in methods else "POST"))
    return found


def test_another_associations_ids_answer_404(app: Flask, world: World) -> None:
    records = make_records(app, world)
    routes = id_routes(app, world, records)
    assert {"capture.patrol", "capture.edit_contact", "followup.referral_status"} <= {
        endpoint for endpoint, _, _ in routes
    }
    checked = 0
    for key in ("other_worker", "other_supervisor"):
        client = app.test_client()
        auth = AuthActions(client)
        auth.login_as(world, key)
        token = auth.page_token()
        role = world.users[key].role
        for endpoint, url, method in routes:
            if role not in ROLE_MATRIX.get(endpoint, ()):
                continue  # refused by role: the matrix of test_access checks that
            response = client.open(url, method=method, data={"csrf_token": token})
            assert response.status_code == 404, (key, endpoint, response.status_code)
            checked += 1
    assert checked >= 8


def test_the_same_ids_work_for_their_own_association(app: Flask, world: World) -> None:
    """So that the 404s above are about tenancy, not about ids that do not exist."""
    records = make_records(app, world)
    for key in ASSOCIATION_ROLES:
        client = app.test_client()
        AuthActions(client).login_as(world, key)
        for endpoint, url, method in id_routes(app, world, records):
            if method == "GET" and key in ROLE_MATRIX.get(endpoint, ()):
                # 403 for a patrol one is not a member of: the record exists, it is not hidden.
                assert client.get(url).status_code in (200, 302, 403), (key, endpoint)


def test_a_funder_reaches_no_record(app: Flask, world: World) -> None:
    records = make_records(app, world)
    client = app.test_client()
    auth = AuthActions(client)
    auth.login_as(world, "funder")
    token = auth.page_token()
    for endpoint, url, method in id_routes(app, world, records):
        response = client.open(url, method=method, data={"csrf_token": token})
        assert response.status_code in (403, 404), (endpoint, response.status_code)
    for path in ("/patrols", "/followup", "/team", "/audit", "/accounts", "/api/v1/form-options"):
        assert client.get(path).status_code == 403, path
