"""The activity report's figures: plain functions over a session, no HTTP.

Every figure is an SQL aggregate over the association's raw rows of the period (contacts
by ISO week, patrols by start time): the database returns at most a few hundred grouped
rows, never the contacts themselves. Distinct people go through one window query: each
person's contacts of the period are ranked to find their latest known gender, age band
and housing, counted, and checked for an earlier contact with the association.
The weekly roll-up is not used: it keeps no per-person attributes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from flask_babel.speaklater import LazyString
from sqlalchemy import ColumnElement, Select, SQLColumnExpression, case, func, select
from sqlalchemy.orm import Session, aliased

from ..clock import iso_week_of
from ..i18n import LazyText, lazy_localized
from ..models import (
    Association,
    Contact,
    ContactMaterial,
    Material,
    Patrol,
    Referral,
    ReferralDestination,
    Zone,
)
from ..reports.periods import (
    Period,
    month_of,
    month_period,
    quarter_period,
    shift_week,
    week_start_utc,
    year_period,
)
from ..reports.services import duration_minutes
from ..vocabulary import AGE_BANDS, GENDERS, HOUSING, REFERRAL_STATUSES
from .definitions import FREQUENCY_BANDS, SECTIONS, TOTALS, SectionText

# A text from the database, or a lazy one translated when shown.
Label = str | LazyText | LazyString


# --- periods ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReportPeriods:
    """The periods a supervisor may choose, newest first by kind, and the one chosen."""

    chosen: Period
    by_kind: Mapping[str, Sequence[Period]]
    current_week: str

    def is_current(self, period: Period) -> bool:
        return period.last_week >= self.current_week


def offered_periods(first_week: str, current_week: str) -> dict[str, list[Period]]:
    """Every year, quarter and month from the one holding `first_week` to the current one."""
    first_year, first_month = month_of(first_week)
    last_year, last_month = month_of(current_week)
    months = [
        (year, month)
        for year in range(first_year, last_year + 1)
        for month in range(1, 13)
        if (first_year, first_month) <= (year, month) <= (last_year, last_month)
    ]
    quarters = sorted({(year, (month - 1) // 3 + 1) for year, month in months})
    return {
        "year": [year_period(year) for year in range(last_year, first_year - 1, -1)],
        "quarter": [quarter_period(*quarter) for quarter in reversed(quarters)],
        "month": [month_period(*month) for month in reversed(months)],
    }


def report_periods(
    session: Session, association_id: int, now: datetime, value: str | None = None
) -> ReportPeriods | None:
    """The periods on offer since the association's first contact, and the one asked for
    ("year:2026", "quarter:2026-Q1", "month:2026-03"); None when it is not on offer.

    By default, the last complete year when the association has data in it (the yearly
    report is written after the year ends), else the current year."""
    current_week = iso_week_of(now)
    first_contact = session.scalar(
        select(func.min(Contact.iso_week)).where(Contact.association_id == association_id)
    )
    by_kind = offered_periods(min(first_contact or current_week, current_week), current_week)
    if value is None:
        years = by_kind["year"]
        chosen = years[1] if len(years) > 1 else years[0]
        return ReportPeriods(chosen, by_kind, current_week)
    kind, _, key = value.partition(":")
    chosen_period = next(
        (period for period in by_kind.get(kind, ()) if period.key == key),
        None,
    )
    if chosen_period is None:
        return None
    return ReportPeriods(chosen_period, by_kind, current_week)


def period_value(period: Period) -> str:
    """How a period is named in URLs and forms."""
    return f"{period.kind}:{period.key}"


# --- figures ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Row:
    """One line of a section: a code (as in the CSV), its label, one value per measure:
    counts as ints, hours (and only hours) as floats, which is how the exports and the
    page tell them apart."""

    code: str
    label: Label
    values: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Section:
    text: SectionText
    rows: Sequence[Row]

    @property
    def code(self) -> str:
        return self.text.code


@dataclass(frozen=True, slots=True)
class ActivityReport:
    association: Association
    period: Period
    totals: Mapping[str, float]
    sections: Sequence[Section]


def activity_report(session: Session, association: Association, period: Period) -> ActivityReport:
    first, last = period.first_week, period.last_week
    in_period = (Contact.association_id == association.id) & Contact.iso_week.between(first, last)
    zones = list(session.scalars(select(Zone).order_by(Zone.position, Zone.name)))

    contacts = _contacts_by_zone(session, in_period)
    patrols = _patrols_by_zone(session, association.id, period)
    people = _people(session, association.id, in_period, first)
    materials = _sums(
        session,
        select(ContactMaterial.material_code, func.sum(ContactMaterial.quantity))
        .join(Contact, Contact.id == ContactMaterial.contact_id)
        .where(in_period)
        .group_by(ContactMaterial.material_code),
    )
    referrals = _referrals(session, in_period)

    def count_of(counter: Counter[tuple[str, ...]], position: int, code: str) -> int:
        return sum(n for key, n in counter.items() if key[position] == code)

    totals: dict[str, float] = {
        "contacts": sum(c["contacts"] for c in contacts.values()),
        "contacts_identified": sum(c["identified"] for c in contacts.values()),
        "people_distinct": people.total(),
        "people_new": count_of(people, 4, "new"),
        "contacts_anonymous": sum(c["anonymous"] for c in contacts.values()),
        "contacts_anonymous_first": sum(c["anonymous_first"] for c in contacts.values()),
        "patrols": sum(p["patrols"] for p in patrols.values()),
        "patrol_hours": sum(p["minutes"] for p in patrols.values()) / 60,
        "material_items": sum(materials.values()),
        "referrals": referrals.total(),
        "referrals_accompanied": count_of(referrals, 2, "accompanied"),
    }
    shown_zones = [
        zone for zone in zones if zone.active or zone.id in contacts or zone.id in patrols
    ]
    sections = [
        Section(
            SECTIONS["totals"],
            [Row(total.code, total.label, (totals[total.code],)) for total in TOTALS],
        ),
        *(
            Section(
                SECTIONS[code],
                [
                    Row(value, label, (count_of(people, position, value),))
                    for value, label in labels.items()
                ],
            )
            for code, position, labels in (
                ("gender", 0, GENDERS),
                ("age_band", 1, AGE_BANDS),
                ("housing", 2, HOUSING),
                ("frequency", 3, FREQUENCY_BANDS),
            )
        ),
        Section(
            SECTIONS["zone"],
            [
                Row(
                    zone.code,
                    zone.name,
                    (
                        contacts.get(zone.id, {}).get("contacts", 0),
                        patrols.get(zone.id, {}).get("patrols", 0),
                        patrols.get(zone.id, {}).get("minutes", 0) / 60,
                    ),
                )
                for zone in shown_zones
            ],
        ),
        Section(
            SECTIONS["material"],
            [
                Row(code, label, (materials.get(code, 0),))
                for code, label in _taxonomy(session, Material, materials)
            ],
        ),
        Section(
            SECTIONS["referral_destination"],
            [
                Row(
                    code,
                    label,
                    (
                        count_of(referrals, 0, code),
                        sum(
                            n
                            for key, n in referrals.items()
                            if key[0] == code and key[2] == "accompanied"
                        ),
                    ),
                )
                for code, label in _taxonomy(
                    session, ReferralDestination, {key[0] for key in referrals}
                )
            ],
        ),
        Section(
            SECTIONS["referral_status"],
            [
                Row(status, label, (count_of(referrals, 1, status),))
                for status, label in REFERRAL_STATUSES.items()
            ],
        ),
    ]
    return ActivityReport(association, period, totals, sections)


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _contacts_by_zone(
    session: Session, in_period: ColumnElement[bool]
) -> dict[int, dict[str, int]]:
    anonymous = Contact.pseudonym_association.is_(None)
    query = (
        select(
            Contact.zone_id,
            func.count(Contact.id),
            _count_if(~anonymous),
            _count_if(anonymous),
            _count_if(anonymous & Contact.first_contact.is_(True)),
        )
        .where(in_period)
        .group_by(Contact.zone_id)
    )
    return {
        zone_id: {
            "contacts": int(total),
            "identified": int(identified),
            "anonymous": int(anonymous_count),
            "anonymous_first": int(first),
        }
        for zone_id, total, identified, anonymous_count, first in session.execute(query)
    }


def _patrols_by_zone(
    session: Session, association_id: int, period: Period
) -> dict[int, dict[str, float]]:
    """Patrols started in the period's weeks (Paris time) and their minutes, by zone."""
    minutes = duration_minutes(session, Patrol.started_at, Patrol.ended_at)
    query = (
        select(Patrol.zone_id, func.count(Patrol.id), func.coalesce(func.sum(minutes), 0))
        .where(
            Patrol.association_id == association_id,
            Patrol.started_at >= week_start_utc(period.first_week),
            Patrol.started_at < week_start_utc(shift_week(period.last_week, 1)),
        )
        .group_by(Patrol.zone_id)
    )
    return {
        zone_id: {"patrols": int(count), "minutes": float(total)}
        for zone_id, count, total in session.execute(query)
    }


def _latest_known(column: SQLColumnExpression[str]) -> ColumnElement[str]:
    """The person's value on their latest contact where it is known, else "unknown"."""
    return func.first_value(column).over(
        partition_by=Contact.pseudonym_association,
        order_by=(
            case((column == "unknown", 1), else_=0),
            Contact.occurred_at.desc(),
            Contact.id.desc(),
        ),
    )


def _people(
    session: Session, association_id: int, in_period: ColumnElement[bool], first_week: str
) -> Counter[tuple[str, ...]]:
    """People of the period by (gender, age band, housing, frequency band, new or not):
    a few hundred combinations at most, from which the sections sum their own."""
    person = Contact.pseudonym_association
    ranked = (
        select(
            person.label("person"),
            _latest_known(Contact.gender).label("gender"),
            _latest_known(Contact.age_band).label("age_band"),
            _latest_known(Contact.housing).label("housing"),
            func.count().over(partition_by=person).label("contacts"),
            func.row_number().over(partition_by=person, order_by=Contact.id).label("nth"),
        )
        .where(in_period, person.is_not(None))
        .subquery()
    )
    earlier = aliased(Contact)
    met_before = (
        select(earlier.id)
        .where(
            earlier.association_id == association_id,
            earlier.pseudonym_association == ranked.c.person,
            earlier.iso_week < first_week,
        )
        .exists()
    )
    people = (
        select(
            ranked.c.gender,
            ranked.c.age_band,
            ranked.c.housing,
            case(
                (ranked.c.contacts == 1, "once"),
                (ranked.c.contacts <= 4, "2_to_4"),
                else_="5_or_more",
            ).label("frequency"),
            case((met_before, "known"), else_="new").label("novelty"),
        )
        .where(ranked.c.nth == 1)
        .subquery()
    )
    columns = (
        people.c.gender,
        people.c.age_band,
        people.c.housing,
        people.c.frequency,
        people.c.novelty,
    )
    rows = session.execute(select(*columns, func.count()).group_by(*columns))
    return Counter({tuple(row[:5]): int(row[5]) for row in rows})


def _referrals(session: Session, in_period: ColumnElement[bool]) -> Counter[tuple[str, ...]]:
    """Referrals of the period's contacts by (destination, status, accompanied or not)."""
    accompanied = case((Referral.accompanied.is_(True), "accompanied"), else_="alone")
    query = (
        select(Referral.destination_code, Referral.status, accompanied, func.count(Referral.id))
        .join(Contact, Contact.id == Referral.contact_id)
        .where(in_period)
        .group_by(Referral.destination_code, Referral.status, accompanied)
    )
    return Counter(
        {
            (destination, status, alone): int(n)
            for destination, status, alone, n in session.execute(query)
        }
    )


def _sums(session: Session, query: Select[str, int]) -> dict[str, int]:
    return {code: int(total) for code, total in session.execute(query)}


def _taxonomy(
    session: Session,
    model: type[Material] | type[ReferralDestination],
    used: Mapping[str, int] | set[str],
) -> list[tuple[str, LazyText]]:
    """The list's entries in its order: the active ones, and retired ones used in the period."""
    rows = session.execute(
        select(model.code, model.label_fr, model.label_en, model.active).order_by(
            model.position, model.code
        )
    )
    return [
        (code, lazy_localized(label_fr, label_en))
        for code, label_fr, label_en, active in rows
        if active or code in used
    ]
