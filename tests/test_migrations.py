"""Migrations: upgrade from empty equals the models; downgrade and upgrade round trip.

Runs on its own database (a temporary SQLite file, or `<TEST_DATABASE_URL>_migrations`
on PostgreSQL) so that it can go down to nothing without disturbing other tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url

from config import Settings
from outreach import create_app
from outreach.extensions import db
from outreach.models import (
    Association,
    Material,
    Need,
    ReferralDestination,
    User,
    WeeklyRollup,
)
from outreach.reports.rollup import refresh

from .conftest import make_world
from .reports_fixtures import add_contact, paris


@pytest.fixture
def migration_app(settings: Settings, tmp_path: Path) -> Iterator[Flask]:
    url = make_url(settings.database_url)
    if url.get_backend_name() == "postgresql":
        name = f"{url.database}_migrations"
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        database_url = url.set(database=name).render_as_string(hide_password=False)
    else:
        database_url = f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
    app = create_app(replace(settings, database_url=database_url))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def schema_differences() -> list[object]:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, db.metadata))


def test_upgrade_from_empty_matches_the_models(migration_app: Flask) -> None:
    upgrade()
    assert schema_differences() == []


def test_default_taxonomies_come_with_the_migration(migration_app: Flask) -> None:
    upgrade()
    assert db.session.scalar(select(func.count()).select_from(Need)) == 13
    assert db.session.scalar(select(func.count()).select_from(Material)) == 15
    assert db.session.scalar(select(func.count()).select_from(ReferralDestination)) == 13
    codes = set(db.session.scalars(select(Material.code).where(Material.category == "crack")))
    assert codes == {"kit_base", "pipe", "mouthpiece", "filter", "push_stick", "healing_cream"}


def test_downgrade_and_upgrade_round_trip(migration_app: Flask) -> None:
    upgrade()
    downgrade(revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade()
    assert schema_differences() == []
    assert db.session.scalar(select(func.count()).select_from(Need)) == 13


def test_the_taxonomy_stamp_comes_and_goes_with_its_triggers(migration_app: Flask) -> None:
    """Down to 0005, a taxonomy write no longer touches the (dropped) stamp; back up, a new
    stamp is made and every write renews it (migration 0006)."""

    def stamp() -> str:
        with db.engine.connect() as connection:
            return str(connection.scalar(text("SELECT stamp FROM taxonomy_stamp")))

    def write(statement: str) -> None:
        with db.engine.begin() as connection:
            connection.execute(text(statement))

    upgrade()
    first = stamp()
    downgrade(revision="0005")
    assert "taxonomy_stamp" not in inspect(db.engine).get_table_names()
    write("UPDATE needs SET position = position + 1")  # no trigger left behind
    upgrade()
    assert stamp() != first
    before = stamp()
    write("UPDATE needs SET position = position - 1")
    assert stamp() != before
    if db.engine.dialect.name == "postgresql":
        before = stamp()
        write("TRUNCATE referral_destinations CASCADE")
        assert stamp() != before


def test_going_below_the_roll_up_and_back_recomputes_every_figure(
    migration_app: Flask, settings: Settings
) -> None:
    """With data in every table, down below the roll-up (0003) and back up: the way down
    works on SQLite too, and the figures come back instead of reading 0 (migration 0008
    marks every week that has contacts for the roll-up)."""
    upgrade()
    world = make_world(migration_app, settings)
    demo = db.session.get(Association, world.demo.id)
    author = db.session.get(User, world.id_of("worker"))
    assert demo and author
    add_contact(db.session, settings, demo, author, paris(2026, 3, 4, 22), code="Zo 1985")
    add_contact(db.session, settings, demo, author, paris(2026, 3, 12, 1), needs=["food"])
    db.session.commit()
    refresh(db.session)
    db.session.commit()

    def figures() -> set[tuple[object, ...]]:
        rows = db.session.execute(
            select(WeeklyRollup.iso_week, WeeklyRollup.measure, WeeklyRollup.value)
        )
        return {tuple(row) for row in rows}

    before = figures()
    assert before
    db.session.remove()
    downgrade(revision="0002")
    upgrade()
    if db.engine.dialect.name == "sqlite":
        assert db.session.scalar(text("PRAGMA foreign_keys")) == 1, "back on after migrating"
    refresh(db.session)
    db.session.commit()
    assert figures() == before
