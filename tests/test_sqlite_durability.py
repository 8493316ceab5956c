"""The embedded SQLite: a 201 means the contact is on disk, and /healthz says when the
disk holding the database is full or cannot be written."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, text

from config import Settings
from outreach import create_app
from outreach.db import configure_sqlite
from outreach.extensions import db
from outreach.health.checks import sqlite_disk


def test_a_commit_waits_for_the_disk(tmp_path: Path) -> None:
    """synchronous=FULL: in WAL mode, NORMAL may lose the last commits on a power loss."""
    engine = create_engine(f"sqlite:///{tmp_path / 'durable.sqlite3'}")
    configure_sqlite(engine)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    engine.dispose()


def test_the_disk_is_measured_where_the_database_lives(tmp_path: Path) -> None:
    path = tmp_path / "outreach.sqlite3"
    path.touch()
    free_mb = shutil.disk_usage(tmp_path).free // 2**20
    assert sqlite_disk(str(path), min_free_mb=1) == {"state": "ok", "free_mb": free_mb}
    assert sqlite_disk(str(path), min_free_mb=free_mb + 1) == {"state": "full", "free_mb": free_mb}


def test_healthz_reports_a_full_disk_with_503(app: Flask, settings: Settings) -> None:
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("the disk check is SQLite's: PostgreSQL watches its own")
    healthy = app.test_client().get("/healthz")
    assert healthy.status_code == 200
    assert healthy.get_json()["database"]["disk"]["state"] == "ok"
    full = create_app(replace(settings, sqlite_min_free_mb=2**40))  # more than any disk
    response = full.test_client().get("/healthz")
    assert response.status_code == 503 and int(response.headers["Retry-After"]) > 0
    body = response.get_json()
    assert body["status"] == "error" and body["database"]["disk"]["state"] == "full"
    with full.app_context():
        db.engine.dispose()
