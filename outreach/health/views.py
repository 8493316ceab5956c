from __future__ import annotations

import functools

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint, current_app, jsonify
from flask.wrappers import Response
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db

bp = Blueprint("health", __name__)


@functools.cache  # the migrations shipped with this code do not change while it runs
def _revisions(script_location: str) -> tuple[str | None, frozenset[str]]:
    """This code's head revision, and every revision it knows."""
    script = ScriptDirectory(script_location)
    known = frozenset(revision.revision for revision in script.walk_revisions())
    return script.get_current_head(), known


def migration_state(revision: str | None) -> str:
    """ "current"; "pending" (this code needs `db upgrade`); or "ahead": a newer release
    has migrated the database, and this instance, still serving during an upgrade, keeps
    serving (migrations are written to run under the previous release: docs/deploy.md)."""
    config = current_app.extensions["migrate"].migrate.get_config()
    head, known = _revisions(config.get_main_option("script_location"))
    if revision == head:
        return "current"
    return "pending" if revision is None or revision in known else "ahead"


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
    migrations = migration_state(revision)
    serving = migrations != "pending"
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
