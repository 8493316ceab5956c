"""The coverage board: which zones were patrolled, or are planned, by which association.

Plain functions over a session and explicit dates (no request, no clock read here): the
views pass `now`. Zone level only: association names, never a worker, a contact or a count
of people. They flush, never commit (the request commits once).

Slots are in Paris time (docs/domain.md): `day` 07:00-19:59 and `night` 20:00-06:59, a
night belonging to the date it starts on (the night of Saturday ends on Sunday morning).
A patrol is in the slot its start falls in. A plan is *done* when a patrol of its
association starts in its zone and slot, *missed* when its slot has ended without one, and
*planned* until then.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import select
from sqlalchemy.orm import Session

from config import MAX_COVERAGE_GAP_NIGHTS

from ..audit import audit
from ..clock import NIGHT_ENDS_BEFORE_HOUR, NIGHT_STARTS_AT_HOUR, PARIS, to_paris
from ..models import Association, Patrol, PlannedPatrol, User, Zone

DAY, NIGHT = "day", "night"
SLOT_ORDER = (DAY, NIGHT)
DONE, PLANNED, MISSED = "done", "planned", "missed"
# How far back the nights without a patrol are counted, and how far ahead one may plan.
GAP_LOOKBACK_NIGHTS = MAX_COVERAGE_GAP_NIGHTS
PLAN_AHEAD_DAYS = 56

Slot = tuple[date, str]


class PlanError(ValueError):
    """A refused plan or cancellation; `field` names the form field it belongs to."""

    def __init__(self, field: str, message: str | LazyString) -> None:
        super().__init__(str(message))
        self.field = field
        self.message = message


# --------------------------------------------------------------------------- slots


def slot_of(moment: datetime) -> Slot:
    """The (Paris date, slot) a moment falls in: 03:00 on Sunday is Saturday's night."""
    local = to_paris(moment)
    if local.hour >= NIGHT_STARTS_AT_HOUR:
        return local.date(), NIGHT
    if local.hour < NIGHT_ENDS_BEFORE_HOUR:
        return local.date() - timedelta(days=1), NIGHT
    return local.date(), DAY


def slot_bounds(day: date, slot: str) -> tuple[datetime, datetime]:
    """Start (included) and end (excluded) of a slot, as aware UTC datetimes (DST-exact:
    the night the clocks go forward lasts 10 hours, the one they go back 12)."""
    if slot == DAY:
        start = datetime.combine(day, time(NIGHT_ENDS_BEFORE_HOUR), tzinfo=PARIS)
        end = datetime.combine(day, time(NIGHT_STARTS_AT_HOUR), tzinfo=PARIS)
    else:
        start = datetime.combine(day, time(NIGHT_STARTS_AT_HOUR), tzinfo=PARIS)
        end = datetime.combine(day + timedelta(days=1), time(NIGHT_ENDS_BEFORE_HOUR), tzinfo=PARIS)
    return start.astimezone(UTC), end.astimezone(UTC)


def tonight(now: datetime) -> date:
    """The date of the night to come, or of the night under way."""
    return slot_of(now)[0]


def last_ended_night(now: datetime) -> date:
    """The latest night that has ended at `now` (the night before the current slot's date)."""
    return slot_of(now)[0] - timedelta(days=1)


def week_days(monday: date) -> list[date]:
    return [monday + timedelta(days=n) for n in range(7)]


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class PlanView:
    id: int
    association_id: int
    association: str
    status: str


@dataclass(slots=True)
class Cell:
    """One zone's slot of one day."""

    day: date
    slot: str
    ended: bool
    # Names of the associations with a patrol started in the slot, by name.
    done: list[str] = field(default_factory=list)
    plans: list[PlanView] = field(default_factory=list)
    covering: set[int] = field(default_factory=set)

    @property
    def overlap(self) -> bool:
        """Two associations or more on the same zone and slot (done or still planned)."""
        return len(self.covering) >= 2

    @property
    def uncovered(self) -> bool:
        """An ended slot with no patrol at all."""
        return self.ended and not self.done


@dataclass(slots=True)
class ZoneRow:
    zone_id: int
    zone: str
    # The nights without a patrol up to the last ended night (capped at the look-back).
    nights_without_patrol: int
    gap: bool
    cells: dict[Slot, Cell]

    @property
    def capped(self) -> bool:
        return self.nights_without_patrol >= GAP_LOOKBACK_NIGHTS


@dataclass(frozen=True, slots=True)
class Board:
    days: list[date]
    rows: list[ZoneRow]
    gap_nights: int

    @property
    def gaps(self) -> list[ZoneRow]:
        return [row for row in self.rows if row.gap]

    def plans_of(self, association_id: int | None) -> list[tuple[ZoneRow, Cell, PlanView]]:
        """The association's plans of the week, in board order."""
        return [
            (row, cell, plan)
            for row in self.rows
            for cell in row.cells.values()
            for plan in cell.plans
            if plan.association_id == association_id
        ]

    @property
    def overlaps(self) -> list[tuple[ZoneRow, Cell]]:
        return [
            (row, row.cells[(day, slot)])
            for row in self.rows
            for day in self.days
            for slot in SLOT_ORDER
            if row.cells[(day, slot)].overlap
        ]


def patrol_slots(
    session: Session, start: datetime, end: datetime
) -> list[tuple[int, int, str, Slot]]:
    """(zone, association id, association name, slot) of each patrol started in [start, end)."""
    rows = session.execute(
        select(Patrol.zone_id, Patrol.association_id, Association.name, Patrol.started_at)
        .join(Association, Association.id == Patrol.association_id)
        .where(Patrol.started_at >= start, Patrol.started_at < end)
    ).all()
    return [
        (zone, association, name, slot_of(started)) for zone, association, name, started in rows
    ]


def plan_status(plan: PlannedPatrol, done: set[tuple[int, int, Slot]], now: datetime) -> str:
    """`done` holds (zone, association, slot) of the patrols started."""
    if (plan.zone_id, plan.association_id, (plan.planned_date, plan.slot)) in done:
        return DONE
    if slot_bounds(plan.planned_date, plan.slot)[1] <= now:
        return MISSED
    return PLANNED


def nights_without_patrol(
    session: Session, zone_ids: Iterable[int], last_night: date
) -> dict[int, int]:
    """For each zone, the consecutive nights up to `last_night` (included) with no patrol
    started in them, any association, counted back at most GAP_LOOKBACK_NIGHTS."""
    first_night = last_night - timedelta(days=GAP_LOOKBACK_NIGHTS - 1)
    start = slot_bounds(first_night, NIGHT)[0]
    end = slot_bounds(last_night, NIGHT)[1]
    latest: dict[int, date] = {}
    for zone, _association, _name, (day, slot) in patrol_slots(session, start, end):
        if slot == NIGHT and (zone not in latest or day > latest[zone]):
            latest[zone] = day
    return {
        zone: (last_night - latest[zone]).days if zone in latest else GAP_LOOKBACK_NIGHTS
        for zone in zone_ids
    }


def week_board(session: Session, monday: date, now: datetime, gap_nights: int) -> Board:
    """The week from `monday`: every active zone (and any zone with a patrol or a plan
    that week) by 7 days by 2 slots, and the zones without a patrol for `gap_nights` nights
    or more up to the last night ended by `now` or by the week's end, whichever is first."""
    days = week_days(monday)
    start = slot_bounds(days[0], DAY)[0]
    end = slot_bounds(days[-1], NIGHT)[1]
    patrols = patrol_slots(session, start, end)
    plans = session.scalars(
        select(PlannedPatrol)
        .where(PlannedPatrol.planned_date >= days[0], PlannedPatrol.planned_date <= days[-1])
        .order_by(PlannedPatrol.id)
    ).all()
    names: dict[int, str] = {
        row.id: row.name for row in session.execute(select(Association.id, Association.name))
    }
    used = {zone for zone, *_ in patrols} | {plan.zone_id for plan in plans}
    zones = session.scalars(
        select(Zone)
        .where(Zone.active.is_(True) | Zone.id.in_(used))
        .order_by(Zone.position, Zone.name)
    ).all()
    reference = min(now, end)
    gaps = nights_without_patrol(session, [zone.id for zone in zones], last_ended_night(reference))

    rows = {
        zone.id: ZoneRow(
            zone_id=zone.id,
            zone=zone.name,
            nights_without_patrol=gaps[zone.id],
            gap=gaps[zone.id] >= gap_nights,
            cells={
                (day, slot): Cell(day, slot, ended=slot_bounds(day, slot)[1] <= now)
                for day in days
                for slot in SLOT_ORDER
            },
        )
        for zone in zones
    }
    done: set[tuple[int, int, Slot]] = set()
    for zone, association, name, slot in patrols:
        done.add((zone, association, slot))
        if slot in rows[zone].cells:
            cell = rows[zone].cells[slot]
            if association not in cell.covering:
                cell.done.append(name)
            cell.covering.add(association)
    for plan in plans:
        status = plan_status(plan, done, now)
        cell = rows[plan.zone_id].cells[(plan.planned_date, plan.slot)]
        cell.plans.append(
            PlanView(plan.id, plan.association_id, names[plan.association_id], status)
        )
        if status != MISSED:
            cell.covering.add(plan.association_id)
    for row in rows.values():
        for cell in row.cells.values():
            cell.done.sort()
            cell.plans.sort(key=lambda view: view.association)
    return Board(days=days, rows=list(rows.values()), gap_nights=gap_nights)


@dataclass(frozen=True, slots=True)
class TonightPlan:
    id: int
    zone: str
    status: str


def tonight_plans(session: Session, association_id: int, now: datetime) -> list[TonightPlan]:
    """The association's plans for tonight (the night to come or under way): what a
    worker of that association sees, and nothing of another association."""
    night = tonight(now)
    plans = session.scalars(
        select(PlannedPatrol)
        .join(Zone, Zone.id == PlannedPatrol.zone_id)
        .where(
            PlannedPatrol.association_id == association_id,
            PlannedPatrol.planned_date == night,
            PlannedPatrol.slot == NIGHT,
        )
        .order_by(Zone.position, Zone.name)
    ).all()
    start, end = slot_bounds(night, NIGHT)
    done = {
        (zone, association, slot)
        for zone, association, _name, slot in patrol_slots(session, start, end)
        if association == association_id
    }
    return [TonightPlan(plan.id, plan.zone.name, plan_status(plan, done, now)) for plan in plans]


# --------------------------------------------------------------------------- writing


def plan_patrol(
    session: Session,
    actor: User,
    zone_id: int,
    planned_date: date,
    slot: str,
    now: datetime,
) -> PlannedPatrol:
    """A supervisor plans a patrol for their own association (never another one)."""
    if actor.role != "supervisor" or actor.association_id is None:
        raise PlanError("zone", _l("Seul·e un·e coordinateur·rice planifie les tournées."))
    if slot not in SLOT_ORDER:
        raise PlanError("slot", _l("Choisissez le jour ou la nuit."))
    zone = session.get(Zone, zone_id)
    if zone is None or not zone.active:
        raise PlanError("zone", _l("Cette zone n'est plus proposée."))
    if slot_bounds(planned_date, slot)[1] <= now:
        raise PlanError("planned_date", _l("Ce créneau est déjà passé."))
    if planned_date > to_paris(now).date() + timedelta(days=PLAN_AHEAD_DAYS):
        raise PlanError(
            "planned_date",
            _l("On planifie au plus %(days)s jours à l'avance.", days=PLAN_AHEAD_DAYS),
        )
    association_id = actor.association_id
    existing = session.scalar(
        select(PlannedPatrol.id).where(
            PlannedPatrol.association_id == association_id,
            PlannedPatrol.zone_id == zone_id,
            PlannedPatrol.planned_date == planned_date,
            PlannedPatrol.slot == slot,
        )
    )
    if existing is not None:
        raise PlanError("zone", _l("Cette tournée est déjà planifiée."))
    plan = PlannedPatrol(
        association_id=association_id,
        zone_id=zone_id,
        planned_date=planned_date,
        slot=slot,
        created_by_id=actor.id,
        created_at=now,
    )
    session.add(plan)
    session.flush()
    audit(
        session,
        "plan.created",
        actor=actor,
        association_id=association_id,
        plan=plan.id,
        zone=zone.code,
        date=planned_date.isoformat(),
        slot=slot,
    )
    return plan


def get_own_plan(session: Session, association_id: int, plan_id: int) -> PlannedPatrol | None:
    """A plan of this association, or None (another association's plan is no plan here)."""
    return session.scalar(
        select(PlannedPatrol).where(
            PlannedPatrol.id == plan_id, PlannedPatrol.association_id == association_id
        )
    )


def cancel_plan(session: Session, actor: User, plan: PlannedPatrol, now: datetime) -> None:
    """Cancel a plan whose slot has not ended: past plans stay, done or missed."""
    if actor.role != "supervisor" or actor.association_id != plan.association_id:
        raise PlanError("plan", _l("Seule l'association qui l'a planifiée peut l'annuler."))
    if slot_bounds(plan.planned_date, plan.slot)[1] <= now:
        raise PlanError("plan", _l("Ce créneau est passé : la tournée planifiée reste."))
    audit(
        session,
        "plan.cancelled",
        actor=actor,
        association_id=plan.association_id,
        plan=plan.id,
        zone=plan.zone.code,
        date=plan.planned_date.isoformat(),
        slot=plan.slot,
    )
    session.delete(plan)
    session.flush()


def plannable_zones(session: Session) -> Sequence[Zone]:
    return session.scalars(
        select(Zone).where(Zone.active.is_(True)).order_by(Zone.position, Zone.name)
    ).all()
