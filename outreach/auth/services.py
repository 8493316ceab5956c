"""Accounts: authentication, creation, password changes and resets, team management.

Plain functions over a session: they flush, the request (or the command) commits.
Every change of a password, a role, an account's state or its second factor is
audited, and ends the account's sessions at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from config import Settings

from ..audit import audit, defer
from ..models import Association, User
from ..vocabulary import ASSOCIATION_ROLES, ROLES
from .passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    PasswordProblem,
    context_words,
    generate_temporary_password,
    password_hasher,
    password_problem,
)
from .sessions import revoke_user_sessions
from .totp import remove_second_factor

# Roles an administrator may swap: an account keeps its association, or its lack of one.
ROLE_SWAPS = {"worker": "supervisor", "supervisor": "worker", "funder": "admin", "admin": "funder"}


class AccountError(ValueError):
    """An account that cannot be created as asked; the message says why (in English, CLI)."""


class ManagementError(ValueError):
    """A team-management action that is refused; the message is for the interface,
    tied to a form field when `field` names one."""

    def __init__(self, message: str | LazyString, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_account(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalise_email(email)))


def verify_password(settings: Settings, user: User, password: str) -> bool:
    try:
        return password_hasher(settings).verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def authenticate(session: Session, settings: Settings, email: str, password: str) -> User | None:
    """The active account whose password this is; None for any failure, alike."""
    hasher = password_hasher(settings)
    user = find_account(session, email)
    if user is None:
        # Spend the same time as for a real account, so that timing does not reveal it.
        hasher.hash(password)
        return None
    if not verify_password(settings, user, password) or not user.is_active:
        return None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
        session.flush()
    return user


def check_password_policy(password: str, context: Iterable[str] = ()) -> None:
    problem = password_problem(password, context)
    if problem is PasswordProblem.LENGTH:
        raise AccountError(
            f"the password must have {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters"
        )
    if problem is PasswordProblem.COMMON:
        raise AccountError("this password is too common or too easy to guess")


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
    check_password_policy(password, context_words(email))
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


def _set_password(
    session: Session,
    settings: Settings,
    user: User,
    password: str,
    now: datetime,
    *,
    temporary: bool,
) -> None:
    user.password_hash = password_hasher(settings).hash(password)
    user.must_change_password = temporary
    user.password_changed_at = now
    revoke_user_sessions(
        session, user.id, "password_reset" if temporary else "password_changed", now
    )
    session.flush()


def change_own_password(
    session: Session, settings: Settings, user: User, new_password: str, now: datetime
) -> None:
    """The user's own change (current password checked by the caller): every session ends."""
    check_password_policy(new_password, context_words(user.email))
    _set_password(session, settings, user, new_password, now, temporary=False)
    audit(session, "password.changed", actor=user, association_id=user.association_id)


def manageable_accounts(session: Session, actor: User) -> Sequence[User]:
    """Admins: every account. Supervisors: their association's team. Others: none."""
    query = (
        select(User)
        .options(selectinload(User.association))
        .order_by(User.association_id.is_(None), User.association_id, User.role, User.email)
    )
    if actor.role == "supervisor":
        query = query.where(User.association_id == actor.association_id)
    elif actor.role != "admin":
        return []
    return session.scalars(query).all()


def active_associations(session: Session) -> Sequence[Association]:
    return session.scalars(
        select(Association).where(Association.active.is_(True)).order_by(Association.name)
    ).all()


def get_manageable(session: Session, actor: User, user_id: int) -> User | None:
    """The account if the actor may manage it: another association's looks missing."""
    user = session.get(User, user_id)
    if user is None:
        return None
    if actor.role == "admin":
        return user
    if actor.role == "supervisor" and user.association_id == actor.association_id:
        return user
    return None


def refuse_oneself(actor: User, user: User) -> None:
    """Managing accounts is for others' accounts: one's own goes through « Mon compte »."""
    if actor.id == user.id:
        raise ManagementError(_l("Utilisez « Mon compte » pour votre propre compte."))


def _address_in_use(actor: User, holder: User | None) -> ManagementError:
    """The refusal of an address that is already a login (unique on the platform).

    An admin sees every account and a supervisor their team's: they are told so. Of an
    address held elsewhere (another association, a platform account) a supervisor learns
    only that it cannot be used, in the same words whoever holds it; admins see the
    attempt in the audit log (no association: supervisors' journals never show it).
    """
    defer(
        "user.creation_refused",
        actor=actor,
        reason="address_in_use",
        user_id=holder.id if holder is not None else None,
    )
    if actor.role == "admin":
        return ManagementError(_l("Un compte utilise déjà cette adresse."), "email")
    if holder is not None and holder.association_id == actor.association_id:
        return ManagementError(_l("Un compte de votre équipe utilise déjà cette adresse."), "email")
    return ManagementError(
        _l(
            "Cette adresse ne peut pas servir à un nouveau compte : choisissez-en une autre, "
            "ou demandez à l'administration de la plateforme."
        ),
        "email",
    )


def create_account(
    session: Session,
    settings: Settings,
    actor: User,
    *,
    email: str,
    display_name: str,
    role: str,
    association: Association | None,
    now: datetime,
) -> tuple[User, str]:
    """A new account and its temporary password (shown once, changed at the first login).

    Admins create any role; supervisors, workers of their own association only. Funders,
    supervisors and admins enrol their second factor at their first login.
    """
    if actor.role == "supervisor":
        if role != "worker" or association is None or association.id != actor.association_id:
            raise ManagementError(_l("Vous créez des comptes d'intervenant·e de votre équipe."))
    elif actor.role != "admin":
        raise ManagementError(_l("Vous ne pouvez pas créer de compte."))
    if role not in ROLES:
        raise ManagementError(_l("Rôle inconnu."), "role")
    if (role in ASSOCIATION_ROLES) != (association is not None):
        raise ManagementError(
            _l("Ce rôle et cette association ne vont pas ensemble."), "association"
        )
    if association is not None and not association.active:
        raise ManagementError(_l("Cette association est désactivée."), "association")
    holder = find_account(session, email)
    if holder is not None:
        raise _address_in_use(actor, holder)
    temporary = generate_temporary_password()
    try:
        with session.begin_nested():  # a concurrent creation of the same address loses here
            user = create_user(
                session,
                settings,
                email=email,
                role=role,
                password=temporary,
                display_name=display_name,
                association=association,
            )
    except IntegrityError:
        raise _address_in_use(actor, None) from None
    except AccountError:
        raise ManagementError(_l("Adresse e-mail invalide."), "email") from None
    user.must_change_password = True
    user.password_changed_at = now
    session.flush()
    audit(
        session,
        "user.created",
        actor=actor,
        association_id=user.association_id,
        user_id=user.id,
        role=role,
    )
    return user, temporary


def reset_password(
    session: Session, settings: Settings, actor: User, user: User, now: datetime
) -> str:
    """A temporary password, to be changed at the next login; shown once to the actor."""
    refuse_oneself(actor, user)
    temporary = generate_temporary_password()
    _set_password(session, settings, user, temporary, now, temporary=True)
    audit(
        session, "password.reset", actor=actor, association_id=user.association_id, user_id=user.id
    )
    return temporary


def set_active(session: Session, actor: User, user: User, active: bool, now: datetime) -> None:
    refuse_oneself(actor, user)
    if user.active == active:
        return
    user.active = active
    if not active:
        revoke_user_sessions(session, user.id, "deactivated", now)
    audit(
        session,
        "user.reactivated" if active else "user.deactivated",
        actor=actor,
        association_id=user.association_id,
        user_id=user.id,
    )
    session.flush()


def change_role(session: Session, actor: User, user: User, role: str, now: datetime) -> None:
    """Admins only: worker <-> supervisor, funder <-> admin (the tenant never changes)."""
    refuse_oneself(actor, user)
    if actor.role != "admin" or ROLE_SWAPS.get(user.role) != role:
        raise ManagementError(_l("Ce changement de rôle n'est pas possible."))
    previous, user.role = user.role, role
    revoke_user_sessions(session, user.id, "role_changed", now)
    audit(
        session,
        "user.role_changed",
        actor=actor,
        association_id=user.association_id,
        user_id=user.id,
        previous_role=previous,
        role=role,
    )
    session.flush()


def reset_second_factor(session: Session, actor: User, user: User, now: datetime) -> None:
    """A lost phone: the account enrols again at its next login (if its role requires it)."""
    refuse_oneself(actor, user)
    remove_second_factor(session, user)
    revoke_user_sessions(session, user.id, "second_factor_reset", now)
    audit(session, "totp.reset", actor=actor, association_id=user.association_id, user_id=user.id)
