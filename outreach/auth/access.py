"""Deny by default: a short list of public endpoints, a role required everywhere else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, current_app, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from ..extensions import csrf, db
from ..models import Association, User

PUBLIC_ENDPOINTS = frozenset(
    {
        "auth.login",
        "health.healthz",
        "api.openapi",
        "pwa.service_worker",
        "pwa.manifest",
        "pwa.offline",
        "static",
    }
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

View = TypeVar("View", bound=Callable[..., Any])


def roles_required(*roles: str) -> Callable[[View], View]:
    """Declare who may call a view; a view that declares nothing is refused to everyone."""

    def decorate(view: View) -> View:
        view.allowed_roles = frozenset(roles)  # type: ignore[attr-defined]
        return view

    return decorate


def enforce_access() -> WerkzeugResponse | None:
    """Who first (anonymous: log in; wrong role: 403), then CSRF on every state change."""
    endpoint = request.endpoint
    if endpoint is None:
        return None  # unknown URL: the 404 handler answers
    if endpoint not in PUBLIC_ENDPOINTS:
        if not current_user.is_authenticated:
            return unauthorized()
        view = current_app.view_functions[endpoint]
        allowed: frozenset[str] = getattr(view, "allowed_roles", frozenset())
        if current_user.role not in allowed:
            abort(403)
    if request.method not in SAFE_METHODS:
        csrf.protect()
    return None


def unauthorized() -> WerkzeugResponse:
    if request.path.startswith("/api/"):
        response = jsonify(error="unauthenticated", message=_("Connectez-vous à nouveau."))
        response.status_code = 401
        return response
    return redirect(
        url_for("auth.login", next=request.full_path if request.method == "GET" else None)
    )


def load_user(user_id: str) -> User | None:
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.active else None


def current_association() -> Association:
    """The tenant of the logged-in worker or supervisor."""
    association = current_user.association
    if association is None:
        abort(403)
    return association
