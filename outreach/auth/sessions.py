"""Server-side sessions: a login is a row; the cookie carries its random id, nothing else.

A session ends when it is revoked (logout, password change or reset, deactivation,
role change, second factor reset), after `session_idle_minutes` without a request,
or `session_absolute_hours` after the login, whatever the activity. Only the SHA-256 of
the id is stored. `last_seen_at` is written at most once a minute per session.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, bindparam, select, update
from sqlalchemy.orm import Session, joinedload

from config import Settings

from ..models import User, UserSession

LAST_SEEN_RESOLUTION = timedelta(minutes=1)
TOKEN_BYTES = 32


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, user: User, now: datetime) -> str:
    """Record a new session for the user; returns its id, for the cookie only."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(
        UserSession(token_hash=token_hash(token), user_id=user.id, created_at=now, last_seen_at=now)
    )
    user.last_login_at = now
    session.flush()
    return token


# Built once (it runs on every request), so that it is compiled once. The user (with its
# association, for `is_active` and the tenant) is the one ORM object the request needs; the
# session's own columns come as plain values (docs/perf-history.md).
_USER_OF_SESSION = (
    select(
        User,
        UserSession.id,
        UserSession.created_at,
        UserSession.last_seen_at,
        UserSession.revoked_at,
    )
    .join(UserSession, UserSession.user_id == User.id)
    .where(UserSession.token_hash == bindparam("token_hash"))
    .options(joinedload(User.association))
)


def resolve_session(session: Session, settings: Settings, token: str, now: datetime) -> User | None:
    """The user of the live session with this id, its last use refreshed; None if the
    session has ended (revoked, idle, too old, or its account deactivated)."""
    row = session.execute(_USER_OF_SESSION, {"token_hash": token_hash(token)}).first()
    if row is None:
        return None
    user, session_id, created_at, last_seen_at, revoked_at = row
    if revoked_at is not None:
        return None
    reason = _ended(user, settings, created_at, last_seen_at, now)
    if reason is not None:
        _set_session(
            session, session_id, revoked_at=now, revoked_reason=reason, followup_pseudonym=None
        )
        return None
    if now - last_seen_at >= LAST_SEEN_RESOLUTION:
        _set_session(session, session_id, last_seen_at=now)
    return user


def _set_session(session: Session, session_id: int, **values: object) -> None:
    session.execute(update(UserSession).where(UserSession.id == session_id).values(**values))


def _ended(
    user: User, settings: Settings, created_at: datetime, last_seen_at: datetime, now: datetime
) -> str | None:
    if not user.is_active:  # the account, or its association, was deactivated
        return "deactivated"
    if now - created_at >= timedelta(hours=settings.session_absolute_hours):
        return "expired"
    if now - last_seen_at >= timedelta(minutes=settings.session_idle_minutes):
        return "idle"
    return None


def revoke_session(session: Session, token: str, reason: str, now: datetime) -> None:
    session.execute(
        update(UserSession)
        .where(UserSession.token_hash == token_hash(token), UserSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason, followup_pseudonym=None)
    )


def revoke_user_sessions(session: Session, user_id: int, reason: str, now: datetime) -> int:
    """End every session of the user at once; returns how many were live."""
    return _revoke_sessions(session, UserSession.user_id == user_id, reason, now)


def revoke_association_sessions(
    session: Session, association_id: int, reason: str, now: datetime
) -> int:
    """End every session of the association's members at once; returns how many were live."""
    members = select(User.id).where(User.association_id == association_id)
    return _revoke_sessions(session, UserSession.user_id.in_(members), reason, now)


def _revoke_sessions(
    session: Session, whose: ColumnElement[bool], reason: str, now: datetime
) -> int:
    result = session.execute(
        update(UserSession)
        .where(whose, UserSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason, followup_pseudonym=None)
        .execution_options(synchronize_session="fetch")
    )
    return int(getattr(result, "rowcount", 0) or 0)


def set_followup_pseudonym(session: Session, token: str, pseudonym: str | None) -> None:
    """The person this login follows up (the association's pseudonym), kept on the server."""
    session.execute(
        update(UserSession)
        .where(UserSession.token_hash == token_hash(token), UserSession.revoked_at.is_(None))
        .values(followup_pseudonym=pseudonym)
    )


def followup_pseudonym(session: Session, token: str) -> str | None:
    """The person this live login follows up, if any."""
    return session.scalar(
        select(UserSession.followup_pseudonym).where(
            UserSession.token_hash == token_hash(token), UserSession.revoked_at.is_(None)
        )
    )
