"""Accounts: password hashing (argon2id), authentication, creation."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Settings

from ..clock import now_utc
from ..models import Association, User
from ..vocabulary import ASSOCIATION_ROLES, ROLES

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128


class AccountError(ValueError):
    """An account that cannot be created as asked; the message says why."""


def password_hasher(settings: Settings) -> PasswordHasher:
    return PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_cost_kib,
        parallelism=settings.argon2_parallelism,
    )


def normalise_email(email: str) -> str:
    return email.strip().lower()


def authenticate(session: Session, settings: Settings, email: str, password: str) -> User | None:
    hasher = password_hasher(settings)
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        # Spend the same time as for a real account, so that timing does not reveal it.
        hasher.hash(password)
        return None
    try:
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if not user.active:
        return None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    user.last_login_at = now_utc()
    session.flush()
    return user


def check_password_policy(password: str) -> None:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise AccountError(
            f"the password must have {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters"
        )


def create_user(
    session: Session,
    settings: Settings,
    *,
    email: str,
    role: str,
    password: str,
    display_name: str,
    association: Association | None = None,
) -> User:
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise AccountError(f"not an e-mail address: {email!r}")
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    if (role in ASSOCIATION_ROLES) != (association is not None):
        raise AccountError(
            f"a {role} needs an association"
            if role in ASSOCIATION_ROLES
            else f"a {role} belongs to no association"
        )
    check_password_policy(password)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise AccountError(f"an account already uses {email}")
    user = User(
        email=email,
        display_name=display_name.strip()[:80] or email.split("@")[0],
        role=role,
        association=association,
        password_hash=password_hasher(settings).hash(password),
    )
    session.add(user)
    session.flush()
    return user
