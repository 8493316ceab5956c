"""The audit log: one function to write an entry, values made safe on the way in.

Details are short scalars (ids, counts, codes of taxonomies, ISO weeks). Control
characters are replaced so that no input can forge a line in a log viewer or a
CSV of the audit log. A detail named like a secret (password, token, person code...)
is a programming error and raises.

A refused request rolls its transaction back; what must be remembered of it all the
same (a failed login, a lockout) goes through `defer`, written after the rollback by
the request's commit hook (`write_deferred`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from flask import g
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from .clock import now_utc
from .models import AuditEntry, User

Scalar = str | int | float | bool | None
MAX_DETAIL_LENGTH = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
_SECRET_NAMES = re.compile(r"password|token|secret|person_code|totp|recovery|^code$", re.IGNORECASE)

# What the audit-log page shows for the actions it knows; others show their code.
ACTION_LABELS: dict[str, LazyString] = {
    "login.succeeded": _l("Connexion"),
    "login.failed": _l("Échec de connexion"),
    "login.second_factor_failed": _l("Code de second facteur refusé"),
    "login.locked": _l("Blocage après trop de tentatives"),
    "logout": _l("Déconnexion"),
    "password.changed": _l("Mot de passe changé"),
    "password.reset": _l("Mot de passe réinitialisé"),
    "totp.enrolled": _l("Second facteur activé"),
    "totp.disabled": _l("Second facteur désactivé"),
    "totp.reset": _l("Second facteur réinitialisé"),
    "totp.recovery_codes_renewed": _l("Codes de secours renouvelés"),
    "totp.recovery_code_used": _l("Code de secours utilisé"),
    "user.role_changed": _l("Rôle modifié"),
    "user.deactivated": _l("Compte désactivé"),
    "user.reactivated": _l("Compte réactivé"),
    "user.locale_changed": _l("Langue de l'interface modifiée"),
    "referral.status_changed": _l("Statut d'orientation modifié"),
    "followup.lookup": _l("Recherche par code"),
    "followup.throttled": _l("Recherches par code bloquées (trop nombreuses)"),
    "export": _l("Export"),
    "target": _l("Objectif modifié"),
    "purge": _l("Purge des données anciennes"),
    "user.created": _l("Compte créé"),
    "user.creation_refused": _l("Création de compte refusée"),
    "association.created": _l("Association créée"),
    "association.renamed": _l("Association renommée"),
    "association.deactivated": _l("Association désactivée"),
    "association.reactivated": _l("Association réactivée"),
    "zone.created": _l("Zone créée"),
    "zone.changed": _l("Zone modifiée"),
    "zone.moved": _l("Zone déplacée dans la liste"),
    "zone.deactivated": _l("Zone désactivée"),
    "zone.reactivated": _l("Zone réactivée"),
    "taxonomy.added": _l("Entrée de liste ajoutée"),
    "taxonomy.relabelled": _l("Entrée de liste renommée"),
    "taxonomy.moved": _l("Entrée de liste déplacée"),
    "taxonomy.retired": _l("Entrée de liste retirée"),
    "taxonomy.restored": _l("Entrée de liste rétablie"),
    "plan.created": _l("Tournée planifiée"),
    "plan.cancelled": _l("Tournée planifiée annulée"),
}


def _clean(value: Scalar) -> Scalar:
    if isinstance(value, str):
        return _CONTROL.sub(" ", value)[:MAX_DETAIL_LENGTH]
    return value


def audit(
    session: Session,
    action: str,
    *,
    actor: User | None = None,
    association_id: int | None = None,
    **details: Scalar,
) -> AuditEntry:
    entry = _entry(action, actor.id if actor is not None else None, association_id, details)
    session.add(entry)
    session.flush()
    return entry


def _entry(
    action: str, actor_id: int | None, association_id: int | None, details: Mapping[str, Scalar]
) -> AuditEntry:
    secret = [key for key in details if _SECRET_NAMES.search(key)]
    if secret:
        raise ValueError(f"the audit log never holds secrets: {', '.join(secret)}")
    return AuditEntry(
        occurred_at=now_utc(),
        action=_CONTROL.sub(" ", action)[:48],
        actor_id=actor_id,
        association_id=association_id,
        details={key: _clean(value) for key, value in details.items()},
    )


def defer(
    action: str,
    *,
    actor: User | None = None,
    association_id: int | None = None,
    **details: Scalar,
) -> None:
    """Record an entry that survives the rollback of a refused request (call in a request)."""
    deferred: list[AuditEntry] = g.setdefault("deferred_audit", [])
    deferred.append(_entry(action, actor.id if actor else None, association_id, details))


def write_deferred(session: Session) -> bool:
    """Add the request's deferred entries to the session; True if there were any."""
    deferred: list[AuditEntry] = g.pop("deferred_audit", [])
    if not deferred:
        return False
    session.add_all(deferred)
    session.flush()
    return True


def entries(
    session: Session, *, association_id: int | None = None, limit: int = 200, offset: int = 0
) -> Sequence[AuditEntry]:
    """Newest first; an association id restricts to that association (supervisors)."""
    query = (
        select(AuditEntry)
        .options(selectinload(AuditEntry.actor))
        .order_by(AuditEntry.occurred_at.desc(), AuditEntry.id.desc())
    )
    if association_id is not None:
        query = query.where(AuditEntry.association_id == association_id)
    return session.scalars(query.limit(limit).offset(offset)).all()


def action_label(action: str) -> str:
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


def details_text(details: Mapping[str, Scalar]) -> str:
    return ", ".join(f"{key}={value}" for key, value in sorted(details.items()))
