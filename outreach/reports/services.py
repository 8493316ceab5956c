"""Report services: figures for a supervisor's association and for funders.

Plain functions over a session, testable without HTTP. They read the weekly roll-up
(refreshed first) and the patrols, and combine measures through the registry.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, case, func, literal, or_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ..models import (
    ALL,
    Association,
    Contact,
    IndicatorTarget,
    Material,
    Need,
    Patrol,
    Referral,
    ReferralDestination,
    RollupWeek,
    WeeklyRollup,
    WeekProtection,
    Zone,
)
from .indicators import (
    PEOPLE,
    Family,
    Indicator,
    Registry,
    TaxonomyEntry,
    build_registry,
    people_measure,
)
from .periods import Period, shift_week, week_period, week_start_utc, weeks_between
from .rollup import refresh
from .suppression import TOTAL, CellKey, Status, WeekTable, inherit, protect_week

TREND_WEEKS = 12
Key = tuple[str, int, int]  # (week, association_id or ALL, zone_id or ALL)


def load_registry(session: Session) -> Registry:
    """The indicators in force, one per code of each taxonomy (retired codes included)."""

    def entries(
        model: type[Need] | type[Material] | type[ReferralDestination],
    ) -> list[TaxonomyEntry]:
        rows = session.execute(
            select(model.code, model.label_fr, model.label_en).order_by(model.position, model.code)
        )
        return [TaxonomyEntry(*row) for row in rows]

    return build_registry(
        {
            "need": entries(Need),
            "material": entries(Material),
            "referral": entries(ReferralDestination),
        }
    )


def ordered_zones(session: Session) -> list[Zone]:
    return list(session.scalars(select(Zone).order_by(Zone.position, Zone.name)))


def ordered_associations(session: Session) -> list[Association]:
    return list(session.scalars(select(Association).order_by(Association.name)))


@dataclass(frozen=True, slots=True)
class Measures:
    """Weekly measures keyed (week, association or ALL, zone or ALL)."""

    rows: Mapping[Key, Mapping[str, int]]

    def week(self, week: str, association_id: int, zone_id: int) -> Mapping[str, int]:
        return self.rows.get((week, association_id, zone_id), {})

    def sums(
        self, weeks: Iterable[str], association_id: int, zone_id: int, period_kind: str
    ) -> dict[str, float]:
        """Measures summed over the weeks; distinct people as suits the kind of period."""
        total: Counter[str] = Counter()
        for week in weeks:
            total.update(self.week(week, association_id, zone_id))
        sums: dict[str, float] = dict(total)
        sums[PEOPLE] = total[people_measure(period_kind)]
        return sums


def load_measures(
    session: Session, first_week: str, last_week: str, *, association_id: int | None
) -> Measures:
    """One association's weeks (with its zones), or every association's (funders: no cross
    association-by-zone rows, which nobody outside the association sees)."""
    refresh(session, up_to=last_week)
    query = select(
        WeeklyRollup.iso_week,
        WeeklyRollup.association_id,
        WeeklyRollup.zone_id,
        WeeklyRollup.measure,
        WeeklyRollup.value,
    ).where(WeeklyRollup.iso_week.between(first_week, last_week))
    if association_id is None:
        query = query.where(or_(WeeklyRollup.association_id == ALL, WeeklyRollup.zone_id == ALL))
    else:
        query = query.where(WeeklyRollup.association_id == association_id)
    rows: dict[Key, dict[str, int]] = defaultdict(dict)
    for week, row_association, zone_id, measure, value in session.execute(query):
        rows[week, row_association, zone_id][measure] = int(value)
    for key, values in _patrol_measures(session, first_week, last_week, association_id).items():
        rows[key].update(values)
    return Measures(rows)


def _patrol_measures(
    session: Session, first_week: str, last_week: str, association_id: int | None
) -> dict[Key, Counter[str]]:
    """Patrols and patrol minutes by week of start (Paris time), with the same totals."""
    weeks = weeks_between(first_week, last_week)
    starts = [week_start_utc(week) for week in weeks]
    end = week_start_utc(shift_week(last_week, 1))
    week_index = _bucket(Patrol.started_at, starts, 0, len(starts))
    minutes = _duration_minutes(session, Patrol.started_at, Patrol.ended_at)
    query = (
        select(
            week_index,
            Patrol.association_id,
            Patrol.zone_id,
            func.count(Patrol.id),
            func.coalesce(func.sum(minutes), 0),
        )
        .where(Patrol.started_at >= starts[0], Patrol.started_at < end)
        .group_by(week_index, Patrol.association_id, Patrol.zone_id)
    )
    if association_id is not None:
        query = query.where(Patrol.association_id == association_id)
    measures: dict[Key, Counter[str]] = defaultdict(Counter)
    for index, patrol_association, zone_id, patrols, patrol_minutes in session.execute(query):
        levels = [(patrol_association, zone_id), (patrol_association, ALL)]
        if association_id is None:
            levels = [(patrol_association, ALL), (ALL, zone_id), (ALL, ALL)]
        for level in levels:
            measures[(weeks[index], *level)].update(
                {"patrols": int(patrols), "patrol_minutes": int(patrol_minutes)}
            )
    return measures


def _bucket(
    column: ColumnElement[datetime], starts: Sequence[datetime], low: int, high: int
) -> ColumnElement[int]:
    """The index of the week a time falls in: a balanced CASE over the weeks' starts (UTC
    instants of Monday 00:00 in Paris, so DST is exact), about log2(weeks) tests a row."""
    if high - low == 1:
        return literal(low)
    middle = (low + high) // 2
    return case(
        (column < starts[middle], _bucket(column, starts, low, middle)),
        else_=_bucket(column, starts, middle, high),
    )


def _duration_minutes(
    session: Session, start: ColumnElement[datetime], end: ColumnElement[datetime]
) -> ColumnElement[float]:
    """Minutes between two stored (naive UTC) times; NULL while a patrol is open."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", end - start) / 60
    return (func.julianday(end) - func.julianday(start)) * 1440


# --- Supervisor dashboard ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Figure:
    indicator: Indicator
    value: float | None
    previous: float | None


@dataclass(frozen=True, slots=True)
class ZoneFigures:
    zone: Zone
    values: Mapping[str, float | None]


@dataclass(frozen=True, slots=True)
class Dashboard:
    association: Association
    week: str
    previous_week: str
    headline: Sequence[Figure]
    trend_weeks: Sequence[str]
    trends: Mapping[str, Sequence[float | None]]
    families: Mapping[Family, Sequence[Figure]]
    referral_statuses: Sequence[tuple[str, int]]
    zones: Sequence[ZoneFigures]


TREND_INDICATORS = ("contacts", "people_distinct", "people_new", "night_share")
ZONE_INDICATORS = ("contacts", "people_distinct", "people_new", "patrols")


def dashboard(session: Session, association: Association, week: str) -> Dashboard:
    """One association's week beside the previous one, with a 12-week trend."""
    registry = load_registry(session)
    previous_week = shift_week(week, -1)
    trend_weeks = weeks_between(shift_week(week, 1 - TREND_WEEKS), week)
    measures = load_measures(session, trend_weeks[0], week, association_id=association.id)

    def value(indicator: Indicator, of_week: str, zone_id: int = ALL) -> float | None:
        return indicator.value(measures.sums([of_week], association.id, zone_id, "week"))

    def figure(indicator: Indicator) -> Figure:
        return Figure(indicator, value(indicator, week), value(indicator, previous_week))

    zones = [
        zone
        for zone in ordered_zones(session)
        if measures.week(week, association.id, zone.id) or zone.active
    ]
    return Dashboard(
        association=association,
        week=week,
        previous_week=previous_week,
        headline=[figure(indicator) for indicator in registry.headline],
        trend_weeks=trend_weeks,
        trends={
            code: [value(indicator, of_week) for of_week in trend_weeks]
            for code in TREND_INDICATORS
            if (indicator := registry.get(code)) is not None
        },
        families={
            family: [figure(indicator) for indicator in indicators]
            for family, indicators in registry.families.items()
        },
        referral_statuses=referral_statuses(session, association.id, week),
        zones=[
            ZoneFigures(
                zone,
                {
                    code: value(indicator, week, zone.id)
                    for code in ZONE_INDICATORS
                    if (indicator := registry.get(code)) is not None
                },
            )
            for zone in zones
        ],
    )


def referral_statuses(session: Session, association_id: int, week: str) -> list[tuple[str, int]]:
    """Referrals made during the week, by their current status."""
    rows = session.execute(
        select(Referral.status, func.count(Referral.id))
        .join(Contact, Contact.id == Referral.contact_id)
        .where(Contact.association_id == association_id, Contact.iso_week == week)
        .group_by(Referral.status)
    )
    return [(status, int(count)) for status, count in rows]


# --- Funders: protected figures --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cell:
    value: float | None
    status: Status

    @property
    def shown(self) -> bool:
        return self.status is Status.PUBLISHED


# Weekly protections are kept in the database (week_protections): one row per week and
# indicator, valid while the week's roll-up version, the threshold and the cells stay the same.
STATUS_LETTERS = {Status.PUBLISHED: "p", Status.SMALL: "s", Status.SUPPRESSED: "m"}
LETTER_STATUSES = {letter: status for status, letter in STATUS_LETTERS.items()}


def cells_digest(cells: Sequence[CellKey]) -> str:
    """Names a table's layout: the stored letters follow this order of cells."""
    layout = ",".join(f"{kind}:{ident}" for kind, ident in cells)
    return hashlib.sha256(layout.encode()).hexdigest()


def _store_protections(session: Session, rows: list[dict[str, str | int]]) -> None:
    """Insert or replace; two readers protecting the same week at once write the same rows."""
    if not rows:
        return
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(WeekProtection)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["iso_week", "indicator", "threshold", "cells_digest"],
            set_={"version": statement.excluded.version, "statuses": statement.excluded.statuses},
        ),
        sorted(rows, key=lambda row: (str(row["iso_week"]), str(row["indicator"]))),
    )


class ProtectedFigures:
    """Every indicator for every cell (total, zones, associations) of some weeks, protected.

    Weekly cells are protected table by table (suppression.protect_week), once per version
    of the week's roll-up, and kept in week_protections; a period's cell is published only
    if all its weekly cells are. Only the weeks whose statuses are not stored yet are read
    row by row; a period's figures are summed in SQL.
    """

    def __init__(
        self,
        session: Session,
        registry: Registry,
        cells: Sequence[CellKey],
        threshold: int,
        weeks: Sequence[str],
    ) -> None:
        self.session = session
        self.registry = registry
        self.cells = tuple(cells)
        self.threshold = threshold
        first, last = weeks[0], weeks[-1]
        refresh(session, up_to=last)
        versions = dict(
            session.execute(
                select(RollupWeek.iso_week, RollupWeek.version).where(
                    RollupWeek.iso_week.between(first, last)
                )
            ).all()
        )
        self.statuses = self._protect(weeks, {week: int(versions.get(week, 0)) for week in weeks})
        self._period_sums: dict[tuple[str, str, str], dict[tuple[int, int], dict[str, float]]] = {}
        self._patrol_sums: dict[tuple[str, str], dict[tuple[int, int], Counter[str]]] = {}

    @staticmethod
    def level(cell: CellKey) -> tuple[int, int]:
        kind, ident = cell
        if kind == "zone":
            return (ALL, ident)
        return (ident, ALL) if kind == "association" else (ALL, ALL)

    def _sums(self, period: Period, cell: CellKey) -> Mapping[str, float]:
        """The period's measures for a cell, summed in the database."""
        key = (period.kind, period.first_week, period.last_week)
        if key not in self._period_sums:
            sums: dict[tuple[int, int], dict[str, float]] = defaultdict(dict)
            query = (
                select(
                    WeeklyRollup.association_id,
                    WeeklyRollup.zone_id,
                    WeeklyRollup.measure,
                    func.sum(WeeklyRollup.value),
                )
                .where(
                    WeeklyRollup.iso_week.between(period.first_week, period.last_week),
                    or_(WeeklyRollup.association_id == ALL, WeeklyRollup.zone_id == ALL),
                )
                .group_by(WeeklyRollup.association_id, WeeklyRollup.zone_id, WeeklyRollup.measure)
            )
            for association_id, zone_id, measure, value in self.session.execute(query):
                sums[association_id, zone_id][measure] = int(value)
            for level_sums in sums.values():
                level_sums[PEOPLE] = level_sums.get(people_measure(period.kind), 0)
            self._period_sums[key] = sums
        return self._period_sums[key].get(self.level(cell), {PEOPLE: 0})

    def _protect(
        self, weeks: Sequence[str], versions: Mapping[str, int]
    ) -> dict[str, dict[str, Mapping[CellKey, Status]]]:
        """Statuses of every count or share indicator's weekly table: read from
        week_protections, computed (and stored) for the weeks whose roll-up changed."""
        digest = cells_digest(self.cells)
        protected = [i for i in self.registry.indicators if i.protection in ("count", "share")]
        statuses: dict[str, dict[str, Mapping[CellKey, Status]]] = {week: {} for week in weeks}
        stored = self.session.execute(
            select(
                WeekProtection.iso_week,
                WeekProtection.indicator,
                WeekProtection.version,
                WeekProtection.statuses,
            ).where(
                WeekProtection.iso_week.between(weeks[0], weeks[-1]),
                WeekProtection.threshold == self.threshold,
                WeekProtection.cells_digest == digest,
            )
        )
        for week, code, version, letters in stored:
            if version == versions.get(week) and len(letters) == len(self.cells):
                statuses[week][code] = dict(
                    zip(self.cells, (LETTER_STATUSES[letter] for letter in letters), strict=True)
                )
        unknown = [week for week in weeks if any(i.code not in statuses[week] for i in protected)]
        weekly = _funder_rows(self.session, unknown)
        new_rows: list[dict[str, str | int]] = []
        for week in unknown:
            for indicator in protected:
                if indicator.code in statuses[week]:
                    continue
                parts = {}
                for cell in self.cells:
                    values = dict(weekly.get((week, *self.level(cell)), {}))
                    values[PEOPLE] = values.get("people", 0)
                    parts[cell] = indicator.protected_parts(values)
                table = WeekTable(
                    parts,
                    indicator.adds_up_across_zones,
                    indicator.adds_up_across_associations,
                )
                week_statuses = protect_week(table, self.threshold)
                statuses[week][indicator.code] = week_statuses
                new_rows.append(
                    {
                        "iso_week": week,
                        "indicator": indicator.code,
                        "threshold": self.threshold,
                        "cells_digest": digest,
                        "version": versions[week],
                        "statuses": "".join(
                            STATUS_LETTERS[week_statuses[cell]] for cell in self.cells
                        ),
                    }
                )
        _store_protections(self.session, new_rows)
        return statuses

    def status(self, indicator: Indicator, period: Period, cell: CellKey) -> Status:
        """A count's single week says why it is hidden ("< 5" or "masqué"); anything longer
        or derived (a rate, a group of destinations) is just masked."""
        if indicator.protection == "activity":
            return Status.PUBLISHED
        if indicator.protection == "rate_of_contacts":
            return inherit([self.status(self.registry["contacts"], period, cell)])
        if indicator.protection == "group":
            return inherit(
                self.status(self.registry[code], period, cell)
                for code in indicator.components
                if code in self.registry
            )
        weekly = [self.statuses[week][indicator.code][cell] for week in period.weeks]
        return weekly[0] if period.kind == "week" else inherit(weekly)

    def _patrols(self, period: Period, cell: CellKey) -> Mapping[str, int]:
        """Patrols started in the period and their minutes, per cell."""
        key = (period.first_week, period.last_week)
        if key not in self._patrol_sums:
            sums: dict[tuple[int, int], Counter[str]] = defaultdict(Counter)
            minutes = _duration_minutes(self.session, Patrol.started_at, Patrol.ended_at)
            query = (
                select(
                    Patrol.association_id,
                    Patrol.zone_id,
                    func.count(Patrol.id),
                    func.coalesce(func.sum(minutes), 0),
                )
                .where(
                    Patrol.started_at >= week_start_utc(period.first_week),
                    Patrol.started_at < week_start_utc(shift_week(period.last_week, 1)),
                )
                .group_by(Patrol.association_id, Patrol.zone_id)
            )
            for association_id, zone_id, patrols, patrol_minutes in self.session.execute(query):
                counts = {"patrols": int(patrols), "patrol_minutes": int(patrol_minutes)}
                for level in ((association_id, ALL), (ALL, zone_id), (ALL, ALL)):
                    sums[level].update(counts)
            self._patrol_sums[key] = sums
        return self._patrol_sums[key].get(self.level(cell), {})

    def cell(self, indicator: Indicator, period: Period, cell: CellKey) -> Cell:
        status = self.status(indicator, period, cell)
        sums = self._sums(period, cell)
        if indicator.uses_patrols:
            sums = {**sums, **self._patrols(period, cell)}
        value = indicator.value(sums)
        return Cell(value if status is Status.PUBLISHED else None, status)


def _funder_rows(session: Session, weeks: Sequence[str]) -> dict[Key, dict[str, int]]:
    """The weekly rows funders' tables are made of: totals, per zone, per association."""
    rows: dict[Key, dict[str, int]] = defaultdict(dict)
    if not weeks:
        return rows
    query = select(
        WeeklyRollup.iso_week,
        WeeklyRollup.association_id,
        WeeklyRollup.zone_id,
        WeeklyRollup.measure,
        WeeklyRollup.value,
    ).where(
        WeeklyRollup.iso_week.in_(list(weeks)),
        or_(WeeklyRollup.association_id == ALL, WeeklyRollup.zone_id == ALL),
    )
    for week, association_id, zone_id, measure, value in session.execute(query):
        rows[week, association_id, zone_id][measure] = int(value)
    return rows


@dataclass(frozen=True, slots=True)
class TargetProgress:
    target: float
    progress: float | None  # value / target, when the value is shown


@dataclass(frozen=True, slots=True)
class FunderRow:
    indicator: Indicator
    total: Cell
    target: TargetProgress | None


@dataclass(frozen=True, slots=True)
class FundersSummary:
    period: Period
    threshold: int
    rows: Sequence[FunderRow]
    zones: Sequence[Zone]
    associations: Sequence[Association]
    by_zone: Mapping[str, Mapping[int, Cell]]
    by_association: Mapping[str, Mapping[int, Cell]]
    trend_weeks: Sequence[str]
    trends: Mapping[str, Sequence[Cell]]
    registry: Registry


FUNDER_TREND_INDICATORS = ("contacts", "people_distinct", "people_new", "referrals_treatment")
TARGET_PERIOD_OF = {
    "week": "week",
    "month": "month",
    "quarter": "quarter",
    "ytd": "year",
    "plan": "plan",
}


def funders_summary(
    session: Session,
    period: Period,
    threshold: int,
    breakdowns: Sequence[str] | None = None,
) -> FundersSummary:
    """Protected figures of a period; by zone and association for the `breakdowns` codes
    (all indicators when None, as the CSV needs)."""
    registry = load_registry(session)
    zones = ordered_zones(session)
    associations = ordered_associations(session)
    trend_weeks = weeks_between(shift_week(period.last_week, 1 - TREND_WEEKS), period.last_week)
    weeks = weeks_between(min(period.first_week, trend_weeks[0]), period.last_week)
    cells: list[CellKey] = [
        TOTAL,
        *(("zone", zone.id) for zone in zones),
        *(("association", association.id) for association in associations),
    ]
    figures = ProtectedFigures(session, registry, cells, threshold, weeks)
    targets = dict(
        session.execute(
            select(IndicatorTarget.indicator, IndicatorTarget.value).where(
                IndicatorTarget.period == TARGET_PERIOD_OF[period.kind]
            )
        ).all()
    )
    rows = []
    for indicator in registry.indicators:
        total = figures.cell(indicator, period, TOTAL)
        target = targets.get(indicator.code)
        progress = None
        if target is not None:
            shown = total.value is not None and target > 0
            progress = TargetProgress(target, total.value / target if shown else None)
        rows.append(FunderRow(indicator, total, progress))
    detailed = [i for i in registry.indicators if breakdowns is None or i.code in breakdowns]
    return FundersSummary(
        period=period,
        threshold=threshold,
        rows=rows,
        zones=zones,
        associations=associations,
        by_zone={
            indicator.code: {
                zone.id: figures.cell(indicator, period, ("zone", zone.id)) for zone in zones
            }
            for indicator in detailed
        },
        by_association={
            indicator.code: {
                association.id: figures.cell(indicator, period, ("association", association.id))
                for association in associations
            }
            for indicator in detailed
        },
        trend_weeks=trend_weeks,
        trends={
            code: [figures.cell(indicator, week_period(week), TOTAL) for week in trend_weeks]
            for code in FUNDER_TREND_INDICATORS
            if (indicator := registry.get(code)) is not None
        },
        registry=registry,
    )


def plan_start_week(session: Session, fallback: str) -> str:
    """The plan began with the first recorded contact (or `fallback` before any)."""
    return session.scalar(select(func.min(Contact.iso_week))) or fallback
