"""The weekly roll-up: every measure of the registry, per ISO week, association and zone.

Database triggers (migration 0003) mark a week stale whenever a contact, one of its needs,
materials or referrals is written, and mark the later weeks of the same person too (their
"first seen" counts depend on the earlier weeks). Readers call `refresh` first: it
recomputes the stale weeks from the raw rows, in SQL, and nothing else. Rows are stored
for each association and zone, for each association with zone 0 (all zones), and for
association 0 (all associations, counted with the regional pseudonym), with and without
zones. Only non-zero values are stored, each with the sum modulo KEY_SPACE of the record keys
of the records it counts (cellkey.py): the contact's key for contact, need, material and
referral measures, the person's key (from the regional pseudonym) for people measures. Key
sums add up over weeks and levels like the values they go with.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from typing import Any

from flask import current_app
from sqlalchemy import Select, delete, func, insert, literal, select, text
from sqlalchemy.orm import Session, aliased

from config import get_settings

from ..models import (
    ALL,
    Contact,
    ContactMaterial,
    ContactNeed,
    Referral,
    RollupStale,
    RollupWeek,
    WeeklyPerson,
    WeeklyRollup,
)
from .cellkey import KEY_SPACE, contact_record_key, person_record_key
from .indicators import Family, contact_measure_sql, family_measure, referral_measure_sql
from .periods import month_start_week, quarter_start_week, year_start_week

ADVISORY_LOCK_KEY = 72_010_003  # one refresher at a time on PostgreSQL

Key = tuple[int, int]  # (association_id or ALL, zone_id or ALL)
WeekSums = dict[Key, dict[str, int]]


def refresh(session: Session, up_to: str | None = None) -> list[str]:
    """Recompute the stale weeks (up to a week, if given); returns them, oldest first.

    A later week never changes an earlier one, so a reader of complete weeks leaves the
    current week (written all the time) for its own reader. The marks are taken (deleted)
    before the raw rows are read: a contact committed meanwhile leaves its own mark.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
    taken = delete(RollupStale).returning(RollupStale.iso_week)
    if up_to is not None:
        taken = taken.where(RollupStale.iso_week <= up_to)
    weeks = sorted(set(session.scalars(taken)))
    # Presence first, for every week: the "first seen" counts look back at earlier weeks.
    for week in weeks:
        _rebuild_presence(session, week)
    for week in weeks:
        _rebuild_week(session, week)
    session.flush()
    return weeks


def rebuild_all(session: Session) -> list[str]:
    """Forget the roll-up and recompute every week from the first that has contacts; the
    weeks before it (purged: security/retention.py) keep their figures."""
    weeks = session.scalars(select(Contact.iso_week).distinct()).all()
    if weeks:
        session.execute(delete(WeeklyRollup).where(WeeklyRollup.iso_week >= min(weeks)))
    session.execute(delete(WeeklyPerson))
    session.execute(delete(RollupStale))
    session.execute(insert(RollupStale), [{"iso_week": week} for week in weeks])
    return refresh(session)


def _rebuild_presence(session: Session, week: str) -> None:
    session.execute(delete(WeeklyPerson).where(WeeklyPerson.iso_week == week))
    columns = ("pseudonym", "association_id", "zone_id", "iso_week")
    week_value = literal(week)
    levels: tuple[Select[str | None, int, int, str], ...] = (
        select(Contact.pseudonym_association, Contact.association_id, Contact.zone_id, week_value),
        select(Contact.pseudonym_association, Contact.association_id, literal(ALL), week_value),
        select(Contact.pseudonym_region, literal(ALL), Contact.zone_id, week_value),
        select(Contact.pseudonym_region, literal(ALL), literal(ALL), week_value),
    )
    for level in levels:
        pseudonym = level.selected_columns[0]
        query = level.where(Contact.iso_week == week, pseudonym.is_not(None)).distinct()
        session.execute(insert(WeeklyPerson).from_select(columns, query))


def _rebuild_week(session: Session, week: str) -> None:
    session.execute(delete(WeeklyRollup).where(WeeklyRollup.iso_week == week))
    # A new random version at each recomputation: a counter could start again after the
    # tables are emptied or restored, and serve cached figures of older data.
    version = session.get(RollupWeek, week) or RollupWeek(iso_week=week)
    version.version = secrets.randbits(62)
    session.add(version)
    master_key = get_settings(current_app).pseudonym_key
    sums = _with_totals(_additive_sums(session, week))
    key_sums = _with_totals(_additive_key_sums(session, week, master_key))
    people, people_keys = _people_sums(session, week, master_key)
    for key, values in people.items():
        sums.setdefault(key, {}).update(values)
        key_sums.setdefault(key, {}).update(people_keys[key])
    rows = [
        {
            "iso_week": week,
            "association_id": association_id,
            "zone_id": zone_id,
            "measure": measure,
            "value": value,
            "key_sum": key_sums.get((association_id, zone_id), {}).get(measure, 0) % KEY_SPACE,
        }
        for (association_id, zone_id), values in sums.items()
        for measure, value in values.items()
        if value
    ]
    if rows:
        session.execute(insert(WeeklyRollup), rows)


def _additive_sums(session: Session, week: str) -> WeekSums:
    """The additive measures of one week, per association and zone."""
    sums: WeekSums = defaultdict(dict)
    key = (Contact.association_id, Contact.zone_id)
    of_week = Contact.iso_week == week

    contact_sql = contact_measure_sql()
    for association_id, zone_id, *values in session.execute(
        select(*key, *contact_sql.values()).where(of_week).group_by(*key)
    ):
        sums[association_id, zone_id].update(zip(contact_sql, values, strict=True))

    referral_sql = referral_measure_sql()
    for association_id, zone_id, *values in session.execute(
        select(*key, *referral_sql.values()).join(Referral).where(of_week).group_by(*key)
    ):
        sums[association_id, zone_id].update(zip(referral_sql, values, strict=True))

    families: tuple[tuple[Family, Any, Any, Any], ...] = (
        ("need", ContactNeed.need_code, func.count(), ContactNeed),
        (
            "material",
            ContactMaterial.material_code,
            func.sum(ContactMaterial.quantity),
            ContactMaterial,
        ),
        ("referral", Referral.destination_code, func.count(), Referral),
    )
    for family, code_column, aggregate, table in families:
        query = (
            select(*key, code_column, aggregate)
            .join(table, table.contact_id == Contact.id)
            .where(of_week)
            .group_by(*key, code_column)
        )
        for association_id, zone_id, code, value in session.execute(query):
            sums[association_id, zone_id][family_measure(family, code)] = int(value)
    return sums


def _additive_key_sums(session: Session, week: str, master_key: str) -> WeekSums:
    """The record keys of the additive measures' records, summed per association and zone."""
    sums: WeekSums = defaultdict(lambda: defaultdict(int))
    keys: dict[int, tuple[int, tuple[int, int]]] = {}
    contacts = session.execute(
        select(
            Contact.id,
            Contact.association_id,
            Contact.zone_id,
            Contact.pseudonym_region.is_(None),
            Contact.gender,
            Contact.night,
            Contact.first_contact,
        ).where(Contact.iso_week == week)
    )
    for contact_id, association_id, zone_id, anonymous, gender, night, first in contacts:
        record_key = contact_record_key(master_key, str(contact_id))
        cell = (association_id, zone_id)
        keys[contact_id] = (record_key, cell)
        flags = {
            "contacts": True,
            "contacts_anonymous": anonymous,
            "contacts_women": gender == "female",
            "contacts_gender_known": gender != "unknown",
            "contacts_night": bool(night),
            "first_contacts_anonymous": anonymous and bool(first),
        }
        for measure, counted in flags.items():
            if counted:
                sums[cell][measure] += record_key
    of_week = Contact.iso_week == week
    for contact_id, code in session.execute(
        select(ContactNeed.contact_id, ContactNeed.need_code).join(Contact).where(of_week)
    ):
        record_key, cell = keys[contact_id]
        sums[cell][family_measure("need", code)] += record_key
    for contact_id, code in session.execute(
        select(ContactMaterial.contact_id, ContactMaterial.material_code)
        .join(Contact)
        .where(of_week, ContactMaterial.quantity > 0)
    ):
        record_key, cell = keys[contact_id]
        sums[cell][family_measure("material", code)] += record_key
    for contact_id, code, accompanied, status in session.execute(
        select(
            Referral.contact_id, Referral.destination_code, Referral.accompanied, Referral.status
        )
        .join(Contact)
        .where(of_week)
    ):
        record_key, cell = keys[contact_id]
        sums[cell][family_measure("referral", code)] += record_key
        sums[cell]["referrals"] += record_key
        if accompanied:
            sums[cell]["referrals_accompanied"] += record_key
        if status == "attended":
            sums[cell]["referrals_attended"] += record_key
    return {cell: dict(values) for cell, values in sums.items()}


def _with_totals(sums: WeekSums) -> WeekSums:
    """Add the association totals (zone 0), the zone totals and the grand total (association 0)."""
    totals: WeekSums = defaultdict(lambda: defaultdict(int))
    for (association_id, zone_id), values in sums.items():
        for key in ((association_id, zone_id), (association_id, ALL), (ALL, zone_id), (ALL, ALL)):
            for measure, value in values.items():
                totals[key][measure] += int(value)
    return {key: dict(values) for key, values in totals.items()}


def _people_sums(session: Session, week: str, master_key: str) -> tuple[WeekSums, WeekSums]:
    """People present in the week, and those seen for the first time in its month, etc.;
    and the same with each person's record key instead of 1."""
    earlier = aliased(WeeklyPerson)
    present = WeeklyPerson
    previous = (
        select(func.max(earlier.iso_week))
        .where(
            earlier.pseudonym == present.pseudonym,
            earlier.association_id == present.association_id,
            earlier.zone_id == present.zone_id,
            earlier.iso_week < week,
        )
        .scalar_subquery()
    )
    regional: dict[str, str] = {
        str(local): str(region)
        for local, region in session.execute(
            select(Contact.pseudonym_association, Contact.pseudonym_region)
            .where(Contact.iso_week == week, Contact.pseudonym_association.is_not(None))
            .distinct()
        )
    }
    starts = {
        "people_first_month": month_start_week(week),
        "people_first_quarter": quarter_start_week(week),
        "people_first_year": year_start_week(week),
        "people_first_ever": None,
    }
    counts: WeekSums = defaultdict(lambda: defaultdict(int))
    keys: WeekSums = defaultdict(lambda: defaultdict(int))
    person_keys: dict[str, int] = {}
    query = select(present.association_id, present.zone_id, present.pseudonym, previous).where(
        present.iso_week == week
    )
    for association_id, zone_id, pseudonym, last_seen in session.execute(query):
        region = str(pseudonym) if association_id == ALL else regional[str(pseudonym)]
        if region not in person_keys:
            person_keys[region] = person_record_key(master_key, region)
        record_key = person_keys[region]
        cell = (association_id, zone_id)
        measures = ["people"] + [
            measure
            for measure, start in starts.items()
            if last_seen is None or (start is not None and last_seen < start)
        ]
        for measure in measures:
            counts[cell][measure] += 1
            keys[cell][measure] += record_key
    return (
        {cell: {m: counts[cell].get(m, 0) for m in ("people", *starts)} for cell in counts},
        {cell: dict(values) for cell, values in keys.items()},
    )
