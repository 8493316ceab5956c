"""The audit log: one function to write an entry, values made safe on the way in.

Details are short scalars (ids, counts, codes of taxonomies, ISO weeks). Control
characters are replaced so that no input can forge a line in a log viewer or a
CSV of the audit log.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from .clock import now_utc
from .models import AuditEntry, User

Scalar = str | int | float | bool | None
MAX_DETAIL_LENGTH = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


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
    entry = AuditEntry(
        occurred_at=now_utc(),
        action=_CONTROL.sub(" ", action)[:48],
        actor_id=actor.id if actor is not None else None,
        association_id=association_id,
        details={key: _clean(value) for key, value in details.items()},
    )
    session.add(entry)
    session.flush()
    return entry


def entries(
    session: Session, *, association_id: int | None = None, limit: int = 200
) -> Sequence[AuditEntry]:
    """Newest first; an association id restricts to that association (supervisors)."""
    query = select(AuditEntry).order_by(AuditEntry.occurred_at.desc(), AuditEntry.id.desc())
    if association_id is not None:
        query = query.where(AuditEntry.association_id == association_id)
    return session.scalars(query.limit(limit)).all()


def details_text(details: Mapping[str, Scalar]) -> str:
    return ", ".join(f"{key}={value}" for key, value in sorted(details.items()))
