"""Hypothesis against POST /api/v1/contacts: never a 5xx; only what is answered "created" is kept.

Bodies are arbitrary JSON, and contacts whose every field mixes valid values, edge cases
and wrong types, alone or in batches.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from outreach.extensions import db
from outreach.models import Contact

from .conftest import AuthActions, World
from .support import make_records

NOW = datetime.now(UTC)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def field(values: list[Any]) -> st.SearchStrategy[Any]:
    """Mostly the listed values (valid ones first), sometimes any JSON at all."""
    return st.one_of(st.sampled_from(values), st.sampled_from(values[:2]), JSON)


def contacts(patrol_id: int) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "id": st.one_of(st.uuids().map(str), st.uuids().map(str), JSON),
            "occurred_at": field(
                [
                    (NOW - timedelta(minutes=5)).isoformat(),
                    (NOW - timedelta(hours=3)).isoformat(),
                    (NOW + timedelta(days=3)).isoformat(),
                    "2026-13-40T99:99",
                ]
            ),
            "zone": field(["stalingrad", "pantin", "nowhere"]),
        },
        optional={
            "patrol_id": field([None, patrol_id, 0, -1, 2**63]),
            "person_code": field(["Éli 1990", "", "x", "a" * 500, "\x00\x00\x00"]),
            "gender": field(["female", "male", "unknown", "robot"]),
            "age_band": field(["25_34", "55_plus", "200"]),
            "housing": field(["street", "castle"]),
            "first_contact": field([True, False, "yes"]),
            "needs": field([["shelter"], ["shelter", "shelter"], ["nope"], []]),
            "materials": field([{"kit_base": 2}, {"kit_base": -1}, {"kit_base": 10**9}, {}]),
            "referrals": field(
                [
                    [{"destination": "caarud", "accompanied": True}],
                    [{"destination": "caarud", "status": "attended"}],
                    [{"destination": "moon"}],
                    [{"destination": "caarud"}] * 9,
                ]
            ),
        },
    )


def stored(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Contact.id))) or 0


def test_the_api_never_fails_and_keeps_only_created_contacts(app: Flask, world: World) -> None:
    records = make_records(app, world)
    client = app.test_client()
    auth = AuthActions(client)
    auth.login_as(world, "worker")
    headers = {"X-CSRFToken": auth.page_token()}
    bodies = st.one_of(
        JSON,
        contacts(records.patrol_id),
        st.lists(contacts(records.patrol_id), min_size=1, max_size=4),
    )

    @settings(
        max_examples=120, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(body=bodies)
    def fuzz(body: Any) -> None:
        before = stored(app)
        response = client.post("/api/v1/contacts", json=body, headers=headers)
        assert response.status_code in (200, 201, 409, 422), (response.status_code, body)
        answer = response.get_json()
        results = answer.get("results", [answer]) if response.status_code == 200 else [answer]
        created = sum(1 for result in results if result.get("status") == "created")
        assert stored(app) == before + created, (body, answer)

    fuzz()


def test_a_replayed_id_with_garbage_changes_nothing(app: Flask, world: World) -> None:
    records = make_records(app, world)
    client = app.test_client()
    auth = AuthActions(client)
    auth.login_as(world, "worker")
    headers = {"X-CSRFToken": auth.page_token()}
    good = {
        "id": str(uuid.uuid4()),
        "occurred_at": (NOW - timedelta(minutes=5)).isoformat(),
        "zone": "stalingrad",
        "patrol_id": records.patrol_id,
    }
    assert client.post("/api/v1/contacts", json=good, headers=headers).status_code == 201

    @settings(
        max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(changes=st.dictionaries(st.sampled_from(["zone", "gender", "needs"]), JSON, min_size=1))
    def fuzz(changes: dict[str, Any]) -> None:
        before = stored(app)
        response = client.post("/api/v1/contacts", json={**good, **changes}, headers=headers)
        assert response.status_code in (200, 409, 422)
        assert stored(app) == before

    fuzz()
