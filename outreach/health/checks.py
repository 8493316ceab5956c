"""What /healthz reports: the database (reachable, migrated; SQLite's disk) and the rate
limits' storage.

Each check gives up within its dependency's timeouts (config.py): a frozen PostgreSQL or
Redis makes the answer say so in seconds instead of holding it.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
from typing import Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from flask import Flask
from flask_limiter import Limiter
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from ..outages import DATABASE, RATE_LIMITS, outage_log

# This project numbers its migrations 0001, 0002...: a later number is a later release's.
NUMBERED_REVISION = re.compile(r"\d{4}")


@functools.cache  # the migrations shipped with this code do not change while it runs
def _revisions(script_location: str) -> tuple[str | None, frozenset[str]]:
    """This code's head revision, and every revision it knows."""
    script = ScriptDirectory(script_location)
    known = frozenset(revision.revision for revision in script.walk_revisions())
    return script.get_current_head(), known


def migration_state(app: Flask, revision: str | None) -> str:
    """ "current"; "pending" (this code needs `db upgrade`); "ahead": a newer release has
    migrated the database, and this instance, still serving during an upgrade, keeps
    serving (migrations are written to run under the previous release: docs/deploy.md);
    or "unknown": a revision of no release of this project (another database?)."""
    config = app.extensions["migrate"].migrate.get_config()
    head, known = _revisions(config.get_main_option("script_location"))
    if revision == head:
        return "current"
    if revision is None or revision in known:
        return "pending"
    newer = (
        head is not None
        and NUMBERED_REVISION.fullmatch(revision)
        and NUMBERED_REVISION.fullmatch(head)
        and revision > head
    )
    return "ahead" if newer else "unknown"


def database_health(app: Flask, engine: Engine, min_free_mb: int) -> tuple[dict[str, Any], str]:
    """The database's state, and this instance's status on it: "ok", "degraded" (its
    migrations: not this release's) or "error" (unreachable; SQLite's disk full or
    read-only)."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            revision = MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as error:
        outage_log(app, DATABASE).failed(error)
        return {"state": "unreachable"}, "error"
    except CommandError:  # several rows in alembic_version: a botched manual fix
        app.logger.warning("health check: the database has several revisions")
        return {"state": "ok", "migrations": "several"}, "degraded"
    migrations = migration_state(app, revision)
    state: dict[str, Any] = {
        "state": "ok",
        "dialect": engine.dialect.name,
        "revision": revision,
        "migrations": migrations,
    }
    status = "ok" if migrations in ("current", "ahead") else "degraded"
    path = engine.url.database
    if engine.dialect.name == "sqlite" and path and path != ":memory:":
        state["disk"] = sqlite_disk(path, min_free_mb)
        if state["disk"]["state"] != "ok":
            status = "error"
    return state, status


def sqlite_disk(path: str, min_free_mb: int) -> dict[str, Any]:
    """The disk holding an SQLite database: "read-only" when the database or its folder
    (where the write-ahead log lives) cannot be written, "full" below `min_free_mb` MiB
    free: captures are failing or about to, while the phones keep them."""
    folder = os.path.dirname(os.path.abspath(path))
    free_mb = shutil.disk_usage(folder).free // 2**20
    writable = (
        not os.statvfs(folder).f_flag & os.ST_RDONLY
        and os.access(folder, os.W_OK)
        and (not os.path.exists(path) or os.access(path, os.W_OK))
    )
    if not writable:
        return {"state": "read-only", "free_mb": free_mb}
    return {"state": "full" if free_mb < min_free_mb else "ok", "free_mb": free_mb}


def rate_limits_health(app: Flask, limiter: Limiter, storage_url: str) -> dict[str, str]:
    """Where login attempts are counted, and whether that storage answers. While Redis is
    unreachable each process counts in its own memory: logins still work, but an attacker
    gets the limits once per process."""
    storage = storage_url.partition("://")[0]
    if limiter.storage.check():
        return {"storage": storage, "state": "ok"}
    outage_log(app, RATE_LIMITS).failed(ConnectionError(f"{storage} does not answer"))
    return {"storage": storage, "state": "unreachable"}
