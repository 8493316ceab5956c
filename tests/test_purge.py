"""Retention: `flask outreach purge [--dry-run]` and the service under it."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from freezegun import freeze_time
from sqlalchemy import create_engine, func, select, update

from config import Settings
from outreach.audit import audit
from outreach.clock import iso_week_of
from outreach.db import configure_sqlite
from outreach.extensions import db
from outreach.funders.services import period_choices, summary_rows
from outreach.models import (
    Association,
    AuditEntry,
    Contact,
    ContactMaterial,
    ContactNeed,
    Patrol,
    PatrolMember,
    Referral,
    ReferralStatusChange,
    User,
    UserSession,
    WeeklyPerson,
)
from outreach.reports.cellkey import PTable
from outreach.reports.rollup import rebuild_all
from outreach.reports.services import funders_summary
from outreach.security.retention import months_before, purge

from .conftest import World
from .reports_fixtures import add_contact, paris
from .support import Records, make_records

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
            update(Contact)
            .where(Contact.id == records.contact_id)
            .values(occurred_at=when, iso_week=iso_week_of(when))
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
        assert purged.details["first_kept_week"] == "2024-W47"


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
    assert "contacts of the weeks before " in dry.output and ": 1 to delete" in dry.output
    assert counts(app)["contacts"] == 2
    real = runner.invoke(args=["outreach", "purge"])
    assert real.exit_code == 0, real.output
    assert "1 deleted" in real.output
    assert counts(app)["contacts"] == 1
    again = runner.invoke(args=["outreach", "purge"])
    assert "contacts of the weeks before" in again.output and ": 0 deleted" in again.output


@pytest.fixture
def someone_purged(app: Flask, world: World) -> tuple[str, ...]:
    """A person met only long ago (purged) and another met recently, both in the roll-up."""
    old = make_records(app, world, code="Zorglub 1977")
    make_records(app, world, code="Éli 1990")
    when = months_before(NOW, 25)
    with app.app_context():
        db.session.execute(
            update(Contact)
            .where(Contact.id == old.contact_id)
            .values(occurred_at=when, iso_week=iso_week_of(when))
        )
        db.session.execute(
            update(Patrol)
            .where(Patrol.id == old.patrol_id)
            .values(started_at=when - timedelta(hours=2), ended_at=when + timedelta(hours=1))
        )
        db.session.commit()
        rebuild_all(db.session)
        db.session.commit()
        contact = db.session.get(Contact, old.contact_id)
        assert contact is not None and contact.pseudonym_association and contact.pseudonym_region
        pseudonyms = (contact.pseudonym_association, contact.pseudonym_region)
        present = db.session.scalars(select(WeeklyPerson.pseudonym)).all()
        assert set(pseudonyms) <= set(present)
    return pseudonyms


def rows_holding(app: Flask, values: tuple[str, ...]) -> list[str]:
    """Every row of every table with a text column equal to or containing one of `values`."""
    found = []
    with app.app_context():
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(select(table)):
                if any(value in str(cell) for cell in row for value in values):
                    found.append(f"{table.name}: {tuple(row)}")
    return found


def test_after_the_purge_no_row_anywhere_holds_a_purged_pseudonym(
    app: Flask, settings: Settings, someone_purged: tuple[str, ...]
) -> None:
    with app.app_context():
        report = purge(db.session, settings, NOW, dry_run=False)
        db.session.commit()
    assert report.contacts == 1
    assert rows_holding(app, someone_purged) == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(WeeklyPerson)), "others kept"


def test_on_sqlite_the_purged_pseudonyms_bytes_leave_the_database_file(
    app: Flask, someone_purged: tuple[str, ...]
) -> None:
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's file only")
        path = Path(db.engine.url.database or "")
    assert any(value.encode() in all_bytes(path) for value in someone_purged), "test can fail"
    with freeze_time(NOW):
        result = app.test_cli_runner().invoke(args=["outreach", "purge"])
    assert result.exit_code == 0, result.output
    content = all_bytes(path)
    assert [value for value in someone_purged if value.encode() in content] == []


def all_bytes(path: Path) -> bytes:
    """The database file and its write-ahead log, as a copy of the folder would hold them."""
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def test_every_sqlite_connection_overwrites_what_it_deletes(tmp_path: Path) -> None:
    """Even where SQLite is built with secure_delete off by default."""

    def connect() -> sqlite3.Connection:
        connection = sqlite3.connect(tmp_path / "db.sqlite3", check_same_thread=False)
        connection.execute("PRAGMA secure_delete=OFF")
        return connection

    engine = create_engine("sqlite://", creator=connect)
    configure_sqlite(engine)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
    engine.dispose()


def published(app: Flask, now: datetime) -> dict[str, list[list[object]]]:
    """Everything the funders can be shown: for every period on offer, its CSV rows."""
    with app.app_context():
        choices = period_choices(db.session, None, now)
        assert choices is not None
        return {
            f"{period.kind}:{period.key}": list(
                summary_rows(funders_summary(db.session, period, PTable(5, 3)))
            )
            for periods in choices.by_kind.values()
            for period in periods
        }


def test_every_figure_published_before_a_purge_is_published_unchanged_after(
    app: Flask, settings: Settings, world: World
) -> None:
    """People met before the cut-off and again after it stay not new; the plan keeps its
    start and every period its figures, at the level of zones and associations too."""
    now = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    with app.app_context():
        demo = db.session.get(Association, world.demo.id)
        other = db.session.get(Association, world.other.id)
        worker = db.session.get(User, world.id_of("worker"))
        assert demo and other and worker
        regulars = [f"Régulier {n} 1980" for n in range(8)]
        for offset in range(30):  # weekly, from 2026-W17 to 2026-W46
            day = paris(2026, 4, 20, 9) + timedelta(weeks=offset)
            for index, code in enumerate(regulars):
                if (offset + index) % 3 == 0:
                    add_contact(db.session, settings, demo, worker, day, "stalingrad", code=code)
            passer = f"Passant {offset}"
            add_contact(db.session, settings, other, worker, day, "pantin", code=passer)
            add_contact(db.session, settings, other, worker, day + timedelta(hours=1), "pantin")
        db.session.commit()
    before = published(app, now)
    assert len(before) > 30

    two_months = replace(settings, contact_retention_months=2)
    with app.app_context():
        report = purge(db.session, two_months, now, dry_run=False)
        db.session.commit()
        first_kept = db.session.scalar(select(func.min(Contact.iso_week)))
    assert report.contacts > 0
    assert first_kept == "2026-W39", "whole ISO weeks are purged"
    after = published(app, now)
    assert list(after) == list(before), "the same periods are on offer"
    changed = [key for key in before if after[key] != before[key]]
    assert changed == []
