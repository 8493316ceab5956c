from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from outreach.audit import audit, details_text, entries
from outreach.extensions import db
from outreach.models import AuditEntry, User

from .conftest import World


def test_control_characters_cannot_forge_lines(app: Flask, world: World) -> None:
    with app.app_context():
        actor = db.session.get(User, world.id_of("admin"))
        audit(db.session, "user.renamed\nFAKE", actor=actor, name="Bob\r\n2026-01-01 admin.login")
        db.session.commit()
        entry = db.session.scalars(select(AuditEntry)).one()
        assert "\n" not in entry.action and "\r" not in entry.details["name"]
        assert "\n" not in details_text(entry.details)
        assert entry.actor_id == world.id_of("admin")


def test_supervisors_see_their_association_only(app: Flask, world: World) -> None:
    with app.app_context():
        audit(db.session, "export", association_id=world.demo.id, rows=3)
        audit(db.session, "export", association_id=world.other.id, rows=4)
        audit(db.session, "purge", rows=0)
        db.session.commit()
        assert [e.details["rows"] for e in entries(db.session, association_id=world.demo.id)] == [3]
        assert len(entries(db.session)) == 3
