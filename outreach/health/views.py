from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from flask.wrappers import Response

from config import get_settings

from ..auth.throttle import current_limiter
from ..errors import RETRY_AFTER_SECONDS
from ..extensions import db
from .checks import database_health, rate_limits_health

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """For load balancers and monitoring. 200 while capture works: the database reachable
    and migrated (and SQLite's disk writable, with room); the rate limits' storage
    unreachable only makes the status "degraded"."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    settings = get_settings(app)
    database, status = database_health(app, db.engine, settings.sqlite_min_free_mb)
    rate_limits = rate_limits_health(app, current_limiter(), settings.ratelimit_storage_url)
    serving = status == "ok"
    if serving and rate_limits["state"] != "ok":
        status = "degraded"
    response = jsonify(status=status, database=database, rate_limits=rate_limits)
    if serving:
        return response, 200
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response, 503
