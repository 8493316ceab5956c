"""Retention: `flask outreach purge [--dry-run]` and the service under it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from freezegun import freeze_time
from sqlalchemy import func, select, update

from config import Settings
from outreach.audit import audit
from outreach.extensions import db
from outreach.models import (
    AuditEntry,
    Contact,
    ContactMaterial,
    ContactNeed,
    Patrol,
    PatrolMember,
    Referral,
    ReferralStatusChange,
    UserSession,
)
from outreach.security.retention import months_before, purge

from .conftest import World
from .test_security_isolation import Records, make_records

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
COUNTED = (
    Contact,
    ContactNeed,
    ContactMaterial,
    Referral,
    ReferralStatusChange,
    Patrol,
    PatrolMember,
    AuditEntry,
    UserSession,
)


@dataclass
class Aged:
    old: Records
    recent: Records


def counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        return {
            model.__tablename__: db.session.scalar(select(func.count()).select_from(model)) or 0
            for model in COUNTED
        }


def move(app: Flask, records: Records, when: datetime) -> None:
    with app.app_context():
        db.session.execute(
            update(Contact).where(Contact.id == records.contact_id).values(occurred_at=when)
        )
        db.session.execute(
            update(Patrol)
            .where(Patrol.id == records.patrol_id)
            .values(started_at=when - timedelta(hours=2), ended_at=when + timedelta(hours=1))
        )
        db.session.commit()


@pytest.fixture
def aged(app: Flask, world: World) -> Aged:
    old, recent = make_records(app, world), make_records(app, world)
    move(app, old, months_before(NOW, 25))
    move(app, recent, months_before(NOW, 23))
    with app.app_context():
        audit(db.session, "export", rows=1).occurred_at = months_before(NOW, 13)
        audit(db.session, "export", rows=2).occurred_at = months_before(NOW, 11)
        db.session.commit()
    return Aged(old, recent)


def test_months_before_clamps_to_the_end_of_the_month() -> None:
    assert months_before(datetime(2026, 3, 31, tzinfo=UTC), 1) == datetime(2026, 2, 28, tzinfo=UTC)
    assert months_before(datetime(2026, 1, 15, tzinfo=UTC), 24) == datetime(2024, 1, 15, tzinfo=UTC)
    assert months_before(datetime(2024, 2, 29, tzinfo=UTC), 12) == datetime(2023, 2, 28, tzinfo=UTC)


def test_purge_deletes_what_is_older_than_the_retention_with_its_parts(
    app: Flask, settings: Settings, aged: Aged
) -> None:
    before = counts(app)
    with app.app_context():
        report = purge(db.session, settings, NOW, dry_run=False)
        db.session.commit()
    assert (report.contacts, report.referrals, report.patrols, report.audit_entries) == (1, 1, 1, 1)
    after = counts(app)
    assert after["contacts"] == before["contacts"] - 1
    assert after["contact_needs"] < before["contact_needs"]
    assert after["contact_materials"] < before["contact_materials"]
    assert after["referrals"] == before["referrals"] - 1
    assert after["referral_status_changes"] < before["referral_status_changes"]
    assert after["patrols"] == before["patrols"] - 1
    with app.app_context():
        remaining = set(db.session.scalars(select(Contact.id)))
        assert remaining == {aged.recent.contact_id}
        assert db.session.get(Referral, aged.recent.referral_id) is not None
        entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert [e.details.get("rows") for e in entries if e.action == "export"] == [2]
        (purged,) = [e for e in entries if e.action == "purge"]
        assert purged.details["contacts"] == 1 and purged.details["audit_entries"] == 1
        assert purged.details["contact_cutoff"] == "2024-11-21"


def test_running_it_twice_changes_nothing_the_second_time(
    app: Flask, settings: Settings, aged: Aged
) -> None:
    with app.app_context():
        purge(db.session, settings, NOW, dry_run=False)
        db.session.commit()
    first = counts(app)
    with app.app_context():
        again = purge(db.session, settings, NOW, dry_run=False)
        db.session.commit()
    assert again.total == 0
    assert counts(app) == first


def test_dry_run_counts_only(app: Flask, settings: Settings, aged: Aged) -> None:
    before = counts(app)
    with app.app_context():
        report = purge(db.session, settings, NOW, dry_run=True)
        db.session.commit()
    assert (report.contacts, report.patrols, report.audit_entries) == (1, 1, 1)
    assert counts(app) == before


def test_retention_periods_come_from_the_configuration(
    app: Flask, settings: Settings, aged: Aged
) -> None:
    longer = replace(settings, contact_retention_months=36, audit_retention_months=24)
    with app.app_context():
        report = purge(db.session, longer, NOW, dry_run=True)
    assert (report.contacts, report.audit_entries) == (0, 0)
    shorter = replace(settings, contact_retention_months=12)
    with app.app_context():
        assert purge(db.session, shorter, NOW, dry_run=True).contacts == 2


def test_expired_sessions_are_purged(app: Flask, settings: Settings, world: World) -> None:
    with app.app_context():
        db.session.add_all(
            UserSession(
                token_hash=f"{age:064d}",
                user_id=world.id_of("worker"),
                created_at=NOW - timedelta(hours=age),
                last_seen_at=NOW - timedelta(hours=age),
            )
            for age in (1, 13)
        )
        db.session.commit()
        assert purge(db.session, settings, NOW, dry_run=False).sessions == 1
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(UserSession)) == 1


@freeze_time(NOW)
def test_the_command(app: Flask, aged: Aged) -> None:
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["outreach", "purge", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "contacts before " in dry.output and ": 1 to delete" in dry.output
    assert counts(app)["contacts"] == 2
    real = runner.invoke(args=["outreach", "purge"])
    assert real.exit_code == 0, real.output
    assert "1 deleted" in real.output
    assert counts(app)["contacts"] == 1
    again = runner.invoke(args=["outreach", "purge"])
    assert "contacts before" in again.output and ": 0 deleted" in again.output
