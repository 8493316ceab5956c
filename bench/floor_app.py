"""The floor of `throughput.py`: a bare WSGI app that stores one contact per request.

POST /contacts?author=<user id>&association=<association id> with the API's JSON body for
one contact: one transaction that inserts the contact, its needs, its materials, its
referrals and their first status change (the rows the app writes), through SQLAlchemy
Core on the same driver, the same schema and, on SQLite, the same connection settings
(WAL, busy timeout, BEGIN IMMEDIATE) as the app. No session, no CSRF, no validation, no
templates: what any app must at least do to store a contact.

    DATABASE_URL=... gunicorn -c gunicorn.conf.py --pythonpath bench floor_app:app
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from sqlalchemy import create_engine, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from outreach.clock import is_night, iso_week_of
from outreach.db import configure_sqlite
from outreach.models import (
    Contact,
    ContactMaterial,
    ContactNeed,
    Referral,
    ReferralStatusChange,
    Zone,
)

StartResponse = Callable[[str, list[tuple[str, str]]], Any]

# The app's engine options (outreach._flask_config), so that both pay the same per checkout.
engine = create_engine(os.environ["DATABASE_URL"], pool_pre_ping=True, hide_parameters=True)
if engine.dialect.name == "sqlite":
    configure_sqlite(engine)
with engine.connect() as startup:
    ZONES: dict[str, int] = dict(startup.execute(select(Zone.code, Zone.id)).tuples().all())
    startup.rollback()

CONTACTS = Contact.__table__
NEEDS = ContactNeed.__table__
MATERIALS = ContactMaterial.__table__
REFERRALS = Referral.__table__
HISTORY = ReferralStatusChange.__table__


def store(body: dict[str, Any], author_id: int, association_id: int) -> int:
    now = datetime.now(UTC)
    occurred_at = datetime.fromisoformat(body["occurred_at"]).replace(second=0, microsecond=0)
    code = body.get("person_code")
    pseudonym = hashlib.sha256(code.encode()).hexdigest() if code else None
    with engine.begin() as connection:
        contact_id: int = connection.execute(
            insert(CONTACTS).returning(CONTACTS.c.id),
            {
                "client_id": uuid.UUID(body["id"]),
                "association_id": association_id,
                "patrol_id": body.get("patrol_id"),
                "author_id": author_id,
                "occurred_at": occurred_at,
                "iso_week": iso_week_of(occurred_at),
                "night": is_night(occurred_at),
                "zone_id": ZONES[body["zone"]],
                "pseudonym_association": pseudonym,
                "pseudonym_region": pseudonym,
                "gender": body.get("gender") or "unknown",
                "age_band": body.get("age_band") or "unknown",
                "housing": body.get("housing") or "unknown",
                "first_contact": bool(body.get("first_contact")),
                "body_digest": hashlib.sha256(json.dumps(body).encode()).hexdigest(),
                "created_at": now,
                "updated_at": now,
            },
        ).scalar_one()
        if body.get("needs"):
            connection.execute(
                insert(NEEDS), [{"contact_id": contact_id, "need_code": c} for c in body["needs"]]
            )
        if body.get("materials"):
            connection.execute(
                insert(MATERIALS),
                [
                    {"contact_id": contact_id, "material_code": c, "quantity": q}
                    for c, q in body["materials"].items()
                ],
            )
        if body.get("referrals"):
            referral_ids = (
                connection.execute(
                    insert(REFERRALS).returning(REFERRALS.c.id),
                    [
                        {
                            "contact_id": contact_id,
                            "destination_code": r["destination"],
                            "accompanied": bool(r.get("accompanied")),
                            "status": "proposed",
                            "status_changed_at": now,
                        }
                        for r in body["referrals"]
                    ],
                )
                .scalars()
                .all()
            )
            connection.execute(
                insert(HISTORY),
                [
                    {
                        "referral_id": referral_id,
                        "status": "proposed",
                        "changed_at": now,
                        "changed_by_id": author_id,
                    }
                    for referral_id in referral_ids
                ],
            )
    return contact_id


def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    if environ["REQUEST_METHOD"] != "POST" or environ["PATH_INFO"] != "/contacts":
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]
    query = parse_qs(environ.get("QUERY_STRING", ""))
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = json.loads(environ["wsgi.input"].read(length))
    contact_id = store(body, int(query["author"][0]), int(query["association"][0]))
    answer = json.dumps({"id": body["id"], "status": "created", "row": contact_id}).encode()
    start_response(
        "201 Created",
        [("Content-Type", "application/json"), ("Content-Length", str(len(answer)))],
    )
    return [answer]
