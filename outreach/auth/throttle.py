"""Throttling of password and code guesses with Flask-Limiter, per account and per address.

Only failures count (the views answer 401 to a wrong password or code). Once a limit is
reached every attempt is refused with 429, the right password included, whether the
account exists or not, so throttling tells nothing about which accounts exist. The
account is keyed by a digest of the e-mail address typed, so that neither the storage
nor Flask-Limiter's log holds addresses; the login view takes form bodies only, so the
address is always the form's. A lockout is audited once per window.

Storage: in memory by default (one process); `RATELIMIT_STORAGE_URL` (or `REDIS_URL`)
shares the counters between several instances, with a fall-back to memory if Redis fails.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, request, session
from flask.wrappers import Response
from flask_limiter import Limiter, RequestLimit
from flask_limiter.util import get_remote_address
from flask_login import current_user
from limits import parse

from .. import audit, get_settings
from ..extensions import db
from ..models import User
from .services import find_account

PENDING_LOGIN_KEY = "pending_login"
# A lockout is written to the audit log at most once per key and window.
LOCKOUT_AUDIT_WINDOW = parse("1 per 15 minutes")
_GUARDED = "guarded_against_guessing"


def guarded(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a view whose POSTs answer 401 to a wrong password or code: `configure` limits it
    per account and per address."""
    setattr(view, _GUARDED, True)
    return view


def configure(app: Flask, storage_url: str) -> None:
    """This app's limiter (its own storage), wrapped around the views marked `guarded`.

    Call once the blueprints are registered.
    """
    hooks_before = _app_wide_hooks(app)
    limiter = Limiter(
        key_func=get_remote_address,
        app=app,
        strategy="moving-window",
        storage_uri=storage_url,
        in_memory_fallback_enabled=not storage_url.startswith("memory://"),
        headers_enabled=False,
        key_prefix="outreach",
    )
    app.extensions["outreach_limiter"] = limiter
    guarded_endpoints = frozenset(
        endpoint for endpoint, view in app.view_functions.items() if getattr(view, _GUARDED, False)
    )
    for endpoint in guarded_endpoints:
        app.view_functions[endpoint] = _limited(limiter, app.view_functions[endpoint])
    _confine_hooks(app, hooks_before, {e.rpartition(".")[0] or None for e in guarded_endpoints})

    @limiter.request_filter
    def unguarded() -> bool:
        """The auth blueprint's other views (logout...) skip the limiter's work at once."""
        return request.endpoint not in guarded_endpoints


_HOOK_REGISTRIES = ("before_request_funcs", "after_request_funcs", "teardown_request_funcs")


def _app_wide_hooks(app: Flask) -> dict[str, list[Callable[..., Any]]]:
    return {name: list(getattr(app, name).get(None, [])) for name in _HOOK_REGISTRIES}


def _confine_hooks(
    app: Flask, hooks_before: dict[str, list[Callable[..., Any]]], blueprints: set[str | None]
) -> None:
    """Run the hooks that Flask-Limiter added to every request only for the blueprints of
    the guarded views. Other requests have no limit to check (no default limits: only the
    decorated views are limited, by their own wrapper), yet those hooks cost a capture
    about 6 % of its Python calls (docs/perf-history.md). For a guarded request they run as
    before: the after-request hook counts the failures (`deduct_when`), the teardown hook
    clears the request's limiter state. Blueprint hooks run after the app's before the view
    (enforce_access first) and before the app's after it (commit_once last): neither order
    matters while no limit is app-wide and the counting reads only the status code.
    """
    if None in blueprints:  # a guarded view outside any blueprint: they stay app-wide
        return
    for name in _HOOK_REGISTRIES:
        registry = getattr(app, name)
        added = [hook for hook in registry.get(None, []) if hook not in hooks_before[name]]
        registry[None] = [hook for hook in registry.get(None, []) if hook not in added]
        for blueprint in blueprints:
            registry.setdefault(blueprint, []).extend(added)


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
