from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from flask.wrappers import Response

from .. import get_settings
from ..auth.throttle import current_limiter
from ..errors import RETRY_AFTER_SECONDS
from ..extensions import db
from .checks import database_health, rate_limits_health

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """For load balancers and monitoring. 200 while capture works: the database reachable
    and migrated; the rate limits' storage unreachable only makes the status "degraded"."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    database, serving = database_health(app, db.engine)
    rate_limits = rate_limits_health(
        app, current_limiter(), get_settings(app).ratelimit_storage_url
    )
    if not serving:
        status = "error" if database["state"] == "unreachable" else "degraded"
    else:
        status = "ok" if rate_limits["state"] == "ok" else "degraded"
    response = jsonify(status=status, database=database, rate_limits=rate_limits)
    if serving:
        return response, 200
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response, 503
