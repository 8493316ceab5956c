"""Retention: delete what is older than the configured periods (`flask outreach purge`).

- contacts of the ISO weeks (Paris) before the week that holds the moment
  `contact_retention_months` (default 24) ago, with their needs, materials and referrals
  (and the referrals' history): the database cascades. Whole weeks go, so that no week
  still shown loses part of its contacts;
- patrols that ended (or, never ended, started) before that week;
- audit entries older than `audit_retention_months` (default 12);
- server-side sessions older than the absolute session lifetime (dead anyway).

Published history does not move: the weekly roll-up of the purged weeks is kept (values
and key sums, no pseudonym), the later weeks are not recomputed (their "first seen" counts
keep the people met before the cut-off), and the plan keeps its first week
(`reports.services.plan_start_week`). What goes with the contacts is every trace of a
purged week's people: its presence rows (`weekly_people`).

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

from sqlalchemy import ColumnElement, Engine, delete, func, insert, select
from sqlalchemy.orm import Session

from config import Settings

from ..audit import audit
from ..clock import now_utc, to_paris
from ..models import AuditEntry, Contact, Patrol, Referral, RollupStale, UserSession, WeeklyPerson
from ..reports.periods import week_of_day, week_start_utc
from ..reports.rollup import refresh

# Contacts written while the purge runs are marked for the roll-up again (see `purge`).
CONCURRENT_WRITES_MARGIN = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class PurgeReport:
    first_kept_week: str
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
            f"contacts of the weeks before {self.first_kept_week}: {self.contacts} {verb}"
            f" (with {self.referrals} referrals, their needs and materials)",
            f"patrols ended before {self.first_kept_week}: {self.patrols} {verb}",
            f"audit entries before {self.audit_cutoff:%Y-%m-%d}: {self.audit_entries} {verb}",
            f"expired sessions: {self.sessions} {verb}",
        ]


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (clamped to the month's end)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def first_kept_week(now: datetime, months: int) -> str:
    """The ISO week (Paris) that holds the moment `months` before now: the oldest kept."""
    return week_of_day(to_paris(months_before(now, months)).date())


def _count(session: Session, model: type, condition: ColumnElement[bool]) -> int:
    return session.scalar(select(func.count()).select_from(model).where(condition)) or 0


def purge(session: Session, settings: Settings, now: datetime, *, dry_run: bool) -> PurgeReport:
    kept_from = first_kept_week(now, settings.contact_retention_months)
    contact_cutoff = week_start_utc(kept_from)
    audit_cutoff = months_before(now, settings.audit_retention_months)
    old_contacts = Contact.iso_week < kept_from
    old_patrols = func.coalesce(Patrol.ended_at, Patrol.started_at) < contact_cutoff
    old_entries = AuditEntry.occurred_at < audit_cutoff
    dead_sessions = UserSession.created_at < now - timedelta(hours=settings.session_absolute_hours)
    report = PurgeReport(
        first_kept_week=kept_from,
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
    started = now_utc() - CONCURRENT_WRITES_MARGIN
    refresh(session)  # what waited is rolled up while every row is still there
    session.execute(delete(Contact).where(old_contacts))
    session.execute(delete(Patrol).where(old_patrols))
    session.execute(delete(AuditEntry).where(old_entries))
    session.execute(delete(UserSession).where(dead_sessions))
    # The deletions marked their weeks and the later weeks of the same people stale
    # (migration 0003's triggers): recomputing them would rewrite published history, so
    # the marks go, and so do the purged weeks' presence rows (their pseudonyms). Contacts
    # written meanwhile by the phones are marked again.
    session.execute(delete(RollupStale))
    session.execute(delete(WeeklyPerson).where(WeeklyPerson.iso_week < kept_from))
    session.execute(
        insert(RollupStale).from_select(
            ["iso_week"],
            select(Contact.iso_week).where(Contact.updated_at >= started).distinct(),
        )
    )
    audit(
        session,
        "purge",
        contacts=report.contacts,
        referrals=report.referrals,
        patrols=report.patrols,
        audit_entries=report.audit_entries,
        sessions=report.sessions,
        first_kept_week=kept_from,
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
        driver = raw.driver_connection
        if driver is not None:  # a pooled connection that is checked out always holds one
            driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()
