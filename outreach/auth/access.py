"""Deny by default: a short list of public endpoints, a role required everywhere else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, current_app, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from config import get_settings

from ..clock import now_utc
from ..extensions import csrf, db
from ..models import Association, User
from .sessions import resolve_session
from .totp import has_totp, requires_totp

PUBLIC_ENDPOINTS = frozenset(
    {
        "auth.login",
        "auth.login_code",  # checks the half-finished login kept in the session itself
        "health.healthz",
        "api.openapi",
        "pwa.service_worker",
        "pwa.manifest",
        "pwa.offline",
        "static",
    }
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# Flask-Login hands this session key to the user loader: we keep the server-side
# session's random id there (auth/sessions.py), never the user's id.
SESSION_USER_KEY = "_user_id"
# Until a reset password is changed, or a required second factor enrolled, only these.
PASSWORD_GATE = frozenset({"auth.change_password", "auth.logout"})
ENROLMENT_GATE = frozenset({"auth.totp_setup", "auth.logout"})

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
        gate = _gate(current_user, endpoint)
        if gate is not None:
            return gate
    if request.method not in SAFE_METHODS:
        csrf.protect()
    return None


def _gate(user: User, endpoint: str) -> WerkzeugResponse | None:
    """Send a user who must first change their password, then enrol a second factor, there.

    One gate at a time: the password first, so that the enrolment never sends back to it.
    """
    if user.must_change_password:
        if endpoint in PASSWORD_GATE:
            return None
        target, message = "auth.change_password", _("Choisissez un nouveau mot de passe.")
    elif requires_totp(user) and not has_totp(user):
        if endpoint in ENROLMENT_GATE:
            return None
        target, message = "auth.totp_setup", _("Activez le second facteur pour continuer.")
    else:
        return None
    if request.path.startswith("/api/"):
        response = jsonify(error="action_required", message=message)
        response.status_code = 403
        return response
    return redirect(url_for(target))


def unauthorized() -> WerkzeugResponse:
    if request.path.startswith("/api/"):
        response = jsonify(error="unauthenticated", message=_("Connectez-vous à nouveau."))
        response.status_code = 401
        return response
    return redirect(
        url_for("auth.login", next=request.full_path if request.method == "GET" else None)
    )


def load_user(session_id: str) -> User | None:
    """The user of a live server-side session: revoked, idle or expired ones log out."""
    return resolve_session(db.session(), get_settings(current_app), session_id, now_utc())


def current_association() -> Association:
    """The tenant of the logged-in worker or supervisor."""
    association: Association | None = current_user.association
    if association is None:
        abort(403)
    return association
