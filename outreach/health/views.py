from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint, current_app, jsonify
from flask.wrappers import Response
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db

bp = Blueprint("health", __name__)


def _head_revision() -> str | None:
    config = current_app.extensions["migrate"].migrate.get_config()
    return ScriptDirectory.from_config(config).get_current_head()


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
    head = _head_revision()
    migrated = revision == head
    body = {
        "status": "ok" if migrated else "degraded",
        "database": {
            "state": "ok",
            "dialect": db.engine.dialect.name,
            "revision": revision,
            "migrations": "current" if migrated else "pending",
        },
    }
    return jsonify(body), 200 if migrated else 503
