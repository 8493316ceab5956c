"""Throttling of password and code guesses with Flask-Limiter, per account and per address.

Only failures count (the views answer 401 to a wrong password or code). Once a limit is
reached every attempt is refused with 429, the right password included, whether the
account exists or not, so throttling tells nothing about which accounts exist. The
account is keyed by a digest of the e-mail address typed, so that neither the storage
nor Flask-Limiter's log holds addresses; the login view takes form bodies only, so the
address is always the form's. A lockout is audited once per window.

Storage: in memory by default (one process); `RATELIMIT_STORAGE_URL` (or `REDIS_URL`)
shares the counters between several instances. Redis gets `RATELIMIT_STORAGE_TIMEOUT`
seconds to connect and to answer; past that, or refused, Flask-Limiter logs the outage once
and counts in this process's memory (its in-memory fallback) until Redis answers again, so
that a frozen Redis neither holds logins nor takes the threads that serve captures.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, make_response, request, session
from flask.wrappers import Response
from flask_babel import gettext as _
from flask_limiter import Limiter, RequestLimit
from flask_limiter.util import get_remote_address
from flask_login import current_user
from limits import parse
from limits.errors import StorageError

from config import get_settings

from .. import audit
from ..errors import error_response
from ..extensions import db
from ..followup.services import THROTTLED_ACTION
from ..models import User
from .services import find_account

PENDING_LOGIN_KEY = "pending_login"
# A lockout is written to the audit log at most once per key and window.
LOCKOUT_AUDIT_WINDOW = parse("1 per 15 minutes")
_GUARDED = "guarded_against_guessing"
_BUDGETED = "counted_against_lookup_budgets"


def guarded(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a view whose POSTs answer 401 to a wrong password or code: `configure` limits it
    per account and per address."""
    setattr(view, _GUARDED, True)
    return view


def budgeted(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark the follow-up lookup by code: `configure` counts each POST that looks a person
    up (answered with a redirect to the person, found or not: each one tells whether a
    code was met) against the account's and the association's budgets, and refuses POSTs
    with 429 once either is spent (then nothing is counted)."""
    setattr(view, _BUDGETED, True)
    return view


class _StorageErrorOnOneLine(logging.Filter):
    """Flask-Limiter logs the storage errors of requests already waiting on Redis when it
    switched to memory with their traceback: one line each is enough."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, StorageError):
            record.msg = f"{record.getMessage()}: {type(error.storage_error).__name__}"
            record.args = ()
            record.exc_info = None
        return True


_ONE_LINE = _StorageErrorOnOneLine()


def configure(app: Flask, storage_url: str, timeout: int) -> None:
    """This app's limiter (its own storage), wrapped around the views marked `guarded` or
    `budgeted`.

    Call once the blueprints are registered.
    """
    shared = not storage_url.startswith("memory://")
    limiter = Limiter(
        key_func=get_remote_address,
        app=app,
        strategy="moving-window",
        storage_uri=storage_url,
        storage_options={
            "socket_connect_timeout": timeout,
            "socket_timeout": timeout,
            "wrap_exceptions": True,
        }
        if shared
        else {},
        in_memory_fallback_enabled=shared,
        # Requests that were already waiting on Redis when the limiter switched to memory
        # go on unlimited rather than failing.
        swallow_errors=True,
        headers_enabled=False,
        key_prefix="outreach",
    )
    limiter.logger.addFilter(_ONE_LINE)
    app.extensions["outreach_limiter"] = limiter
    limited_endpoints = set()
    for endpoint, view in list(app.view_functions.items()):
        if getattr(view, _GUARDED, False):
            app.view_functions[endpoint] = _limited(limiter, view)
        elif getattr(view, _BUDGETED, False):
            app.view_functions[endpoint] = _budgeted(limiter, view)
        else:
            continue
        limited_endpoints.add(endpoint)

    @limiter.request_filter
    def unlimited() -> bool:
        """Every view but the guarded and budgeted ones skips the limiter's work at once."""
        return request.endpoint not in limited_endpoints


def current_limiter() -> Limiter:
    limiter: Limiter = current_app.extensions["outreach_limiter"]
    return limiter


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def _settings_limit(name: str) -> Callable[[], str]:
    def limit() -> str:
        value: str = getattr(get_settings(current_app), name)
        return value

    return limit


def _typed_email() -> str:
    return str(request.form.get("email", "")).strip().lower()[:254]


def _pending_user_id() -> int | None:
    pending = session.get(PENDING_LOGIN_KEY)
    if isinstance(pending, dict) and isinstance(pending.get("user_id"), int):
        return int(pending["user_id"])
    return None


def account_key() -> str:
    """The account a login attempt is about: the typed address, or the half-logged-in user."""
    if request.endpoint == "auth.login":
        return "account:" + _digest(_typed_email())
    user_id = _pending_user_id()
    if user_id is None and current_user.is_authenticated:
        user_id = current_user.id
    return f"user:{user_id}"


def _account_of_request() -> User | None:
    if request.endpoint == "auth.login":
        return find_account(db.session(), _typed_email())
    user_id = _pending_user_id()
    if user_id is not None:
        return db.session.get(User, user_id)
    return current_user if current_user.is_authenticated else None


def _failed(response: Response) -> bool:
    return response.status_code == 401


def _on_lockout(scope: str) -> Callable[[RequestLimit], None]:
    def record(request_limit: RequestLimit) -> None:
        if not current_limiter().limiter.hit(
            LOCKOUT_AUDIT_WINDOW, "lockout-audit", request_limit.key
        ):
            return
        account = _account_of_request() if scope == "account" else None
        audit.defer(
            "login.locked",
            actor=account,
            association_id=account.association_id if account is not None else None,
            scope=scope,
            endpoint=request.endpoint,
            known_account=account is not None if scope == "account" else None,
        )

    return record


def _limited(limiter: Limiter, view: Callable[..., Any]) -> Callable[..., Any]:
    """Per-account and per-address limits on the view's failed POSTs."""
    per_address = limiter.limit(
        _settings_limit("login_limit_ip"),
        methods=["POST"],
        deduct_when=_failed,
        on_breach=_on_lockout("address"),
        scope="address",
    )
    per_account = limiter.limit(
        _settings_limit("login_limit_account"),
        key_func=account_key,
        methods=["POST"],
        deduct_when=_failed,
        on_breach=_on_lockout("account"),
        scope="account",
    )
    return per_account(per_address(view))


def _looked_up(response: Response) -> bool:
    return response.status_code == 302


def _lookup_refused(_request_limit: RequestLimit) -> Response:
    audit.defer(THROTTLED_ACTION, actor=current_user, association_id=current_user.association_id)
    message = _(
        "Trop de recherches par code : patientez avant d'en faire d'autres. "
        "Votre coordination en est informée."
    )
    return make_response(error_response(429, message))


def _budgeted(limiter: Limiter, view: Callable[..., Any]) -> Callable[..., Any]:
    """The follow-up budgets, per account and per association (see `budgeted`)."""
    budgets: tuple[tuple[str, Callable[[], str], str], ...] = (
        ("followup_limit_account", lambda: f"user:{current_user.id}", "followup-account"),
        (
            "followup_limit_association",
            lambda: f"association:{current_user.association_id}",
            "followup-association",
        ),
    )
    limited = view
    for setting, key, scope in budgets:
        limited = limiter.limit(
            _settings_limit(setting),
            key_func=key,
            methods=["POST"],
            deduct_when=_looked_up,
            on_breach=_lookup_refused,
            scope=scope,
        )(limited)
    return limited
