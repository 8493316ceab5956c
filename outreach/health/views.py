from __future__ import annotations

import functools
import re

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from flask import Blueprint, current_app, jsonify
from flask.wrappers import Response
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db

bp = Blueprint("health", __name__)

# This project numbers its migrations 0001, 0002...: a later number is a later release's.
NUMBERED_REVISION = re.compile(r"\d{4}")


@functools.cache  # the migrations shipped with this code do not change while it runs
def _revisions(script_location: str) -> tuple[str | None, frozenset[str]]:
    """This code's head revision, and every revision it knows."""
    script = ScriptDirectory(script_location)
    known = frozenset(revision.revision for revision in script.walk_revisions())
    return script.get_current_head(), known


def migration_state(revision: str | None) -> str:
    """ "current"; "pending" (this code needs `db upgrade`); "ahead": a newer release has
    migrated the database, and this instance, still serving during an upgrade, keeps
    serving (migrations are written to run under the previous release: docs/deploy.md);
    or "unknown": a revision of no release of this project (another database?)."""
    config = current_app.extensions["migrate"].migrate.get_config()
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


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """For load balancers and monitoring: is the database reachable and migrated?"""
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            revision = MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError:
        current_app.logger.warning("health check: database unreachable")
        return jsonify(status="error", database={"state": "unreachable"}), 503
    except CommandError:  # several rows in alembic_version: a botched manual fix
        current_app.logger.warning("health check: the database has several revisions")
        return jsonify(status="degraded", database={"state": "ok", "migrations": "several"}), 503
    migrations = migration_state(revision)
    serving = migrations in ("current", "ahead")
    body = {
        "status": "ok" if serving else "degraded",
        "database": {
            "state": "ok",
            "dialect": db.engine.dialect.name,
            "revision": revision,
            "migrations": migrations,
        },
    }
    return jsonify(body), 200 if serving else 503
