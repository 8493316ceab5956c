"""Retention: delete what is older than the configured periods (`flask outreach purge`).

- contacts that occurred before `contact_retention_months` (default 24) with their needs,
  materials and referrals (and the referrals' history): the database cascades;
- patrols that ended (or, never ended, started) before the same cut-off, with their
  members and their site report;
- audit entries older than `audit_retention_months` (default 12);
- server-side sessions older than the absolute session lifetime (dead anyway);
- in the same transaction, the weekly roll-up of the weeks that lost contacts is
  recomputed, so that no presence row (`weekly_people`) keeps a purged pseudonym.

On SQLite every connection sets `secure_delete` (deleted rows are overwritten with
zeros) and the command then checkpoints the write-ahead log and truncates it, so the
purged bytes are left neither in the database file nor in its log.

A run that deletes something is audited (after the audit purge, so its own entry stays);
a run with nothing to delete changes nothing, so running it twice in a row is harmless.
A dry run only counts.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Engine, delete, func, select
from sqlalchemy.orm import Session

from config import Settings

from ..audit import audit
from ..models import AuditEntry, Contact, Patrol, Referral, UserSession
from ..reports.rollup import refresh


@dataclass(frozen=True, slots=True)
class PurgeReport:
    contact_cutoff: datetime
    audit_cutoff: datetime
    contacts: int
    referrals: int
    patrols: int
    audit_entries: int
    sessions: int
    dry_run: bool

    @property
    def total(self) -> int:
        return self.contacts + self.patrols + self.audit_entries + self.sessions

    def lines(self) -> list[str]:
        verb = "to delete" if self.dry_run else "deleted"
        return [
            f"contacts before {self.contact_cutoff:%Y-%m-%d}: {self.contacts} {verb}"
            f" (with {self.referrals} referrals, their needs and materials)",
            f"patrols ended before {self.contact_cutoff:%Y-%m-%d}: {self.patrols} {verb}",
            f"audit entries before {self.audit_cutoff:%Y-%m-%d}: {self.audit_entries} {verb}",
            f"expired sessions: {self.sessions} {verb}",
        ]


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (clamped to the month's end)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def _count(session: Session, model: type, condition: ColumnElement[bool]) -> int:
    return session.scalar(select(func.count()).select_from(model).where(condition)) or 0


def purge(session: Session, settings: Settings, now: datetime, *, dry_run: bool) -> PurgeReport:
    contact_cutoff = months_before(now, settings.contact_retention_months)
    audit_cutoff = months_before(now, settings.audit_retention_months)
    old_contacts = Contact.occurred_at < contact_cutoff
    old_patrols = func.coalesce(Patrol.ended_at, Patrol.started_at) < contact_cutoff
    old_entries = AuditEntry.occurred_at < audit_cutoff
    dead_sessions = UserSession.created_at < now - timedelta(hours=settings.session_absolute_hours)
    report = PurgeReport(
        contact_cutoff=contact_cutoff,
        audit_cutoff=audit_cutoff,
        contacts=_count(session, Contact, old_contacts),
        referrals=session.scalar(select(func.count(Referral.id)).join(Contact).where(old_contacts))
        or 0,
        patrols=_count(session, Patrol, old_patrols),
        audit_entries=_count(session, AuditEntry, old_entries),
        sessions=_count(session, UserSession, dead_sessions),
        dry_run=dry_run,
    )
    if dry_run or report.total == 0:
        return report
    session.execute(delete(Contact).where(old_contacts))
    session.execute(delete(Patrol).where(old_patrols))
    session.execute(delete(AuditEntry).where(old_entries))
    session.execute(delete(UserSession).where(dead_sessions))
    refresh(session)  # the deletions marked their weeks stale (migration 0003's triggers)
    audit(
        session,
        "purge",
        contacts=report.contacts,
        referrals=report.referrals,
        patrols=report.patrols,
        audit_entries=report.audit_entries,
        sessions=report.sessions,
        contact_cutoff=contact_cutoff.date().isoformat(),
        audit_cutoff=audit_cutoff.date().isoformat(),
    )
    return report


def truncate_write_ahead_log(engine: Engine) -> None:
    """On SQLite, copy the log into the database file and empty it: its older page images
    still hold what was deleted. Call after the purge is committed."""
    if engine.dialect.name != "sqlite":
        return
    raw = engine.raw_connection()
    try:  # outside any transaction: the engine's hooks would begin one
        raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()
