"""Report services: figures for a supervisor's association and for funders.

Plain functions over a session, testable without HTTP. They read the weekly roll-up
(refreshed first) and the patrols, and combine measures through the registry.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

from sqlalchemy import ColumnElement, SQLColumnExpression, case, func, literal, or_, select
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
    Zone,
)
from .cellkey import KEY_SPACE, PTable
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
    minutes = duration_minutes(session, Patrol.started_at, Patrol.ended_at)
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
    column: SQLColumnExpression[datetime], starts: Sequence[datetime], low: int, high: int
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


def duration_minutes(
    session: Session,
    start: SQLColumnExpression[datetime],
    end: SQLColumnExpression[datetime | None],
) -> ColumnElement[float | Decimal]:
    """Minutes between two stored (naive UTC) times; NULL while a patrol is open."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", end - start) / 60.0
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


# --- Funders: published figures (cell key method) --------------------------------------

CellRef = tuple[str, int]  # ("total", 0), ("zone", zone_id) or ("association", id)
TOTAL: CellRef = ("total", 0)
Note = Literal["cell-key", "derived", ""]


@dataclass(frozen=True, slots=True)
class Cell:
    """A published figure: a perturbed count ("cell-key"), a share or rate computed from
    perturbed counts ("derived"; None when its denominator is 0), or an exact figure of the
    teams' activity ("")."""

    value: float | None
    note: Note


class PublishedFigures:
    """Every indicator for every cell (total, zones, associations) of fixed periods, as
    published to funders. Each period is a cell of its own: its true counts and record key
    sums are sums of weekly roll-up rows (in SQL), then perturbed once through the ptable."""

    def __init__(self, session: Session, registry: Registry, table: PTable, last_week: str) -> None:
        self.session = session
        self.registry = registry
        self.table = table
        refresh(session, up_to=last_week)
        self._sums: dict[tuple[str, str], dict[tuple[int, int], dict[str, tuple[int, int]]]] = {}
        self._patrol_sums: dict[tuple[str, str], dict[tuple[int, int], Counter[str]]] = {}

    @staticmethod
    def level(cell: CellRef) -> tuple[int, int]:
        kind, ident = cell
        if kind == "zone":
            return (ALL, ident)
        return (ident, ALL) if kind == "association" else (ALL, ALL)

    def _period_sums(self, period: Period, cell: CellRef) -> Mapping[str, tuple[int, int]]:
        """Each measure's (true count, key sum) over the period, summed in the database."""
        key = (period.first_week, period.last_week)
        if key not in self._sums:
            sums: dict[tuple[int, int], dict[str, tuple[int, int]]] = defaultdict(dict)
            query = (
                select(
                    WeeklyRollup.association_id,
                    WeeklyRollup.zone_id,
                    WeeklyRollup.measure,
                    func.sum(WeeklyRollup.value),
                    func.sum(WeeklyRollup.key_sum),
                )
                .where(
                    WeeklyRollup.iso_week.between(period.first_week, period.last_week),
                    or_(WeeklyRollup.association_id == ALL, WeeklyRollup.zone_id == ALL),
                )
                .group_by(WeeklyRollup.association_id, WeeklyRollup.zone_id, WeeklyRollup.measure)
            )
            for association_id, zone_id, measure, value, key_sum in self.session.execute(query):
                sums[association_id, zone_id][measure] = (int(value), int(key_sum) % KEY_SPACE)
            self._sums[key] = sums
        return self._sums[key].get(self.level(cell), {})

    def _patrols(self, period: Period, cell: CellRef) -> Mapping[str, int]:
        """Patrols started in the period and their minutes, per cell."""
        key = (period.first_week, period.last_week)
        if key not in self._patrol_sums:
            sums: dict[tuple[int, int], Counter[str]] = defaultdict(Counter)
            minutes = duration_minutes(self.session, Patrol.started_at, Patrol.ended_at)
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

    def _perturbed(self, measures: Sequence[str], period: Period, cell: CellRef) -> int:
        """The published count of the records counted by some measures, as one cell."""
        sums = self._period_sums(period, cell)
        count = key = 0
        for measure in measures:
            name = people_measure(period.kind) if measure == PEOPLE else measure
            value, key_sum = sums.get(name, (0, 0))
            count += value
            key += key_sum
        return self.table.lookup(count, key % KEY_SPACE)

    def cell(self, indicator: Indicator, period: Period, cell: CellRef) -> Cell:
        if indicator.protection == "activity":
            return Cell(indicator.value(self._patrols(period, cell)), "")
        top = self._perturbed(indicator.numerator, period, cell)
        if indicator.unit == "count":
            return Cell(top, "cell-key")
        if indicator.unit == "rate":
            hours = self._patrols(period, cell).get("patrol_minutes", 0) / 60
            return Cell(top / hours if hours else None, "derived")
        bottom = self._perturbed(indicator.denominator, period, cell)
        return Cell(min(1.0, top / bottom) if bottom else None, "derived")


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
    max_noise: int
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
    table: PTable,
    breakdowns: Sequence[str] | None = None,
) -> FundersSummary:
    """Published figures of a period; by zone and association for the `breakdowns` codes
    (all indicators when None, as the CSV needs)."""
    registry = load_registry(session)
    zones = ordered_zones(session)
    associations = ordered_associations(session)
    trend_weeks = weeks_between(shift_week(period.last_week, 1 - TREND_WEEKS), period.last_week)
    figures = PublishedFigures(session, registry, table, period.last_week)
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
            progress = TargetProgress(
                target, total.value / target if total.value is not None and shown else None
            )
        rows.append(FunderRow(indicator, total, progress))
    detailed = [i for i in registry.indicators if breakdowns is None or i.code in breakdowns]
    return FundersSummary(
        period=period,
        threshold=table.threshold,
        max_noise=table.max_noise,
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
            code: [figures.cell(trend, week_period(week), TOTAL) for week in trend_weeks]
            for code in FUNDER_TREND_INDICATORS
            if (trend := registry.get(code)) is not None
        },
        registry=registry,
    )


def plan_start_week(session: Session, fallback: str) -> str:
    """The plan began with the first recorded contact (or `fallback` before any). The
    roll-up remembers that week after the retention purge deleted its contacts."""
    first_contact = session.scalar(select(func.min(Contact.iso_week)))
    first_rolled_up = session.scalar(select(func.min(RollupWeek.iso_week)))
    return min(filter(None, (first_contact, first_rolled_up)), default=fallback)
