"""The coverage board (outreach/coverage): slots in Paris time, plans done, planned or
missed, zones without a patrol for N nights, slots covered twice, and who sees what."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from config import ConfigError, Settings
from outreach.clock import now_utc
from outreach.coverage.services import (
    DONE,
    GAP_LOOKBACK_NIGHTS,
    MISSED,
    NIGHT,
    PLANNED,
    Board,
    PlanError,
    cancel_plan,
    get_own_plan,
    nights_without_patrol,
    plan_patrol,
    slot_bounds,
    slot_of,
    tonight,
    tonight_plans,
    week_board,
)
from outreach.extensions import db
from outreach.models import Association, AuditEntry, PlannedPatrol, User, Zone

from .conftest import AuthActions, World, text_of
from .reports_fixtures import add_patrol, paris, zone_id

# ISO week 2026-W13: Monday 23 to Sunday 29 March 2026; clocks go forward on the 29th at 02:00.
MONDAY = date(2026, 3, 23)


@pytest.fixture
def session(app: Flask, world: World) -> Iterator[Session]:
    with app.app_context():
        yield db.session()


def user(session: Session, world: World, key: str) -> User:
    found = session.get(User, world.id_of(key))
    assert found is not None
    return found


def association(session: Session, association_id: int) -> Association:
    found = session.get(Association, association_id)
    assert found is not None
    return found


def plan(
    session: Session,
    world: World,
    key: str,
    zone: str,
    day: date,
    slot: str = NIGHT,
    now: datetime | None = None,
) -> PlannedPatrol:
    """A plan made by `key` (a supervisor) the Monday before, unless told otherwise."""
    moment = now or paris(day.year, day.month, day.day, 8) - timedelta(days=7)
    return plan_patrol(
        session, user(session, world, key), zone_id(session, zone), day, slot, moment
    )


def patrol(session: Session, world: World, key: str, start: datetime, zone: str) -> None:
    starter = user(session, world, key)
    assert starter.association_id is not None
    add_patrol(session, association(session, starter.association_id), starter, start, None, zone)


def cell(board: Board, zone: str, day: date, slot: str = NIGHT) -> object:
    [row] = [row for row in board.rows if row.zone == zone]
    return row.cells[(day, slot)]


def zone_name(session: Session, code: str) -> str:
    return session.scalars(select(Zone.name).where(Zone.code == code)).one()


# --------------------------------------------------------------------------- slots


def test_a_night_belongs_to_the_date_it_starts_on() -> None:
    assert slot_of(paris(2026, 3, 24, 19, 59)) == (date(2026, 3, 24), "day")
    assert slot_of(paris(2026, 3, 24, 20, 0)) == (date(2026, 3, 24), "night")
    assert slot_of(paris(2026, 3, 25, 0, 30)) == (date(2026, 3, 24), "night")
    assert slot_of(paris(2026, 3, 25, 6, 59)) == (date(2026, 3, 24), "night")
    assert slot_of(paris(2026, 3, 25, 7, 0)) == (date(2026, 3, 25), "day")
    # In UTC, 23:30 on the 24th is already 00:30 on the 25th in Paris (winter time).
    assert slot_of(datetime(2026, 3, 24, 23, 30, tzinfo=UTC)) == (date(2026, 3, 24), "night")
    assert tonight(paris(2026, 3, 24, 10)) == date(2026, 3, 24)
    assert tonight(paris(2026, 3, 25, 3)) == date(2026, 3, 24)


def test_nights_when_the_clocks_change_keep_to_the_paris_wall_clock() -> None:
    start, end = slot_bounds(date(2026, 3, 28), NIGHT)  # clocks go forward at 02:00
    assert end - start == timedelta(hours=10)
    assert start == datetime(2026, 3, 28, 19, 0, tzinfo=UTC)  # 20:00 CET
    assert end == datetime(2026, 3, 29, 5, 0, tzinfo=UTC)  # 07:00 CEST
    assert slot_of(datetime(2026, 3, 29, 4, 59, tzinfo=UTC)) == (date(2026, 3, 28), "night")
    assert slot_of(datetime(2026, 3, 29, 5, 0, tzinfo=UTC)) == (date(2026, 3, 29), "day")
    start, end = slot_bounds(date(2026, 10, 24), NIGHT)  # clocks go back at 03:00
    assert end - start == timedelta(hours=12)
    day_start, day_end = slot_bounds(date(2026, 3, 29), "day")
    assert day_end - day_start == timedelta(hours=13)


# --------------------------------------------------------------------------- done, planned, missed


def test_plans_are_done_when_started_missed_when_not_and_planned_until_then(
    session: Session, world: World
) -> None:
    done = plan(session, world, "supervisor", "stalingrad", date(2026, 3, 24))
    missed = plan(session, world, "supervisor", "jardins_eole", date(2026, 3, 25))
    ahead = plan(session, world, "supervisor", "stalingrad", date(2026, 3, 28))
    # Started after midnight: still the night of the 24th.
    patrol(session, world, "worker", paris(2026, 3, 25, 1, 15), "stalingrad")
    # Another association's patrol in the missed plan's zone and slot does not do it.
    patrol(session, world, "other_worker", paris(2026, 3, 25, 21), "jardins_eole")
    session.flush()

    now = paris(2026, 3, 27, 12)
    board = week_board(session, MONDAY, now, 3)
    statuses = {view.id: view.status for _, _, view in board.plans_of(world.demo.id)}
    assert statuses == {done.id: DONE, missed.id: MISSED, ahead.id: PLANNED}
    stalingrad = zone_name(session, "stalingrad")
    eole = zone_name(session, "jardins_eole")
    night_24 = cell(board, stalingrad, date(2026, 3, 24))
    assert night_24.done == [world.demo.name]  # type: ignore[attr-defined]
    night_25 = cell(board, eole, date(2026, 3, 25))
    assert night_25.done == [world.other.name]  # type: ignore[attr-defined]
    assert not night_25.overlap  # type: ignore[attr-defined]  # the missed plan covers nothing
    # The day slot of the 25th stays empty: the patrol started at night.
    assert cell(board, stalingrad, date(2026, 3, 25), "day").done == []  # type: ignore[attr-defined]


def test_a_patrol_started_in_the_short_dst_night_does_its_plan(
    session: Session, world: World
) -> None:
    night = date(2026, 3, 28)
    planned = plan(session, world, "supervisor", "stalingrad", night)
    late = plan(session, world, "supervisor", "jardins_eole", night)
    patrol(session, world, "worker", paris(2026, 3, 29, 6, 30), "stalingrad")  # CEST already
    patrol(session, world, "worker2", paris(2026, 3, 29, 7, 0), "jardins_eole")  # the day
    session.flush()
    board = week_board(session, MONDAY, paris(2026, 3, 30, 9), 3)
    statuses = {view.id: view.status for _, _, view in board.plans_of(world.demo.id)}
    assert statuses == {planned.id: DONE, late.id: MISSED}


# --------------------------------------------------------------------------- gaps and overlaps


def test_two_associations_on_one_slot_stand_out(session: Session, world: World) -> None:
    day = date(2026, 3, 26)
    patrol(session, world, "worker", paris(2026, 3, 26, 22), "stalingrad")
    plan(session, world, "other_supervisor", "stalingrad", day)
    # Two patrols of one association are no overlap.
    patrol(session, world, "worker", paris(2026, 3, 26, 21), "porte_chapelle")
    patrol(session, world, "worker2", paris(2026, 3, 26, 23), "porte_chapelle")
    session.flush()
    board = week_board(session, MONDAY, paris(2026, 3, 26, 23, 30), 3)
    stalingrad = zone_name(session, "stalingrad")
    overlaps = [(row.zone, found.day, found.slot) for row, found in board.overlaps]
    assert overlaps == [(stalingrad, day, NIGHT)]
    chapelle = cell(board, zone_name(session, "porte_chapelle"), day)
    assert chapelle.done == [world.demo.name]  # type: ignore[attr-defined]


def test_zones_without_a_patrol_for_n_nights_are_flagged(session: Session, world: World) -> None:
    patrol(session, world, "worker", paris(2026, 3, 21, 22), "stalingrad")  # 4 nights before
    patrol(session, world, "other_worker", paris(2026, 3, 24, 21), "jardins_eole")  # last night
    patrol(session, world, "worker", paris(2026, 3, 23, 14), "porte_chapelle")  # a day only
    patrol(session, world, "worker", paris(2026, 3, 23, 1), "gare_du_nord")  # night of the 22nd
    session.flush()
    now = paris(2026, 3, 25, 10)  # the last night ended is the 24th's
    ids = {code: zone_id(session, code) for code in ("stalingrad", "jardins_eole")}
    ids |= {code: zone_id(session, code) for code in ("porte_chapelle", "gare_du_nord")}
    gaps = nights_without_patrol(session, ids.values(), date(2026, 3, 24))
    assert gaps[ids["stalingrad"]] == 3  # nights of the 22nd, 23rd and 24th
    assert gaps[ids["jardins_eole"]] == 0
    assert gaps[ids["porte_chapelle"]] == GAP_LOOKBACK_NIGHTS  # day patrols are no night
    assert gaps[ids["gare_du_nord"]] == 2

    board = week_board(session, MONDAY, now, 3)
    flagged = {row.zone for row in board.gaps}
    assert zone_name(session, "stalingrad") in flagged
    assert zone_name(session, "gare_du_nord") not in flagged
    assert zone_name(session, "jardins_eole") not in flagged
    assert {row.zone for row in week_board(session, MONDAY, now, 2).gaps} >= {
        zone_name(session, "gare_du_nord")
    }


def test_a_past_week_counts_its_gaps_at_its_own_end(session: Session, world: World) -> None:
    patrol(session, world, "worker", paris(2026, 3, 29, 22), "stalingrad")  # Sunday night
    session.flush()
    board = week_board(session, MONDAY, paris(2026, 4, 20, 12), 3)
    [row] = [row for row in board.rows if row.zone == zone_name(session, "stalingrad")]
    assert row.nights_without_patrol == 0 and not row.gap


def test_the_gap_setting_is_validated() -> None:
    assert Settings().coverage_gap_nights == 3
    assert Settings.from_env({"COVERAGE_GAP_NIGHTS": "5"}).coverage_gap_nights == 5
    for wrong in ("0", "x", "61"):
        with pytest.raises(ConfigError):
            Settings.from_env({"COVERAGE_GAP_NIGHTS": wrong})
    with pytest.raises(AttributeError):
        Settings().coverage_gap_nights = 4  # type: ignore[misc]


# --------------------------------------------------------------------------- who plans, who sees


def test_plans_are_the_supervisors_own_and_audited(session: Session, world: World) -> None:
    made = plan(session, world, "supervisor", "stalingrad", date(2026, 3, 26))
    assert made.association_id == world.demo.id
    with pytest.raises(PlanError):  # twice the same
        plan(session, world, "supervisor", "stalingrad", date(2026, 3, 26))
    with pytest.raises(PlanError):  # a worker
        plan(session, world, "worker", "stalingrad", date(2026, 3, 27))
    with pytest.raises(PlanError):  # a slot already over
        plan(
            session, world, "supervisor", "stalingrad", date(2026, 3, 20), now=paris(2026, 3, 23, 9)
        )
    with pytest.raises(PlanError):  # too far ahead
        plan(
            session, world, "supervisor", "stalingrad", date(2026, 9, 1), now=paris(2026, 3, 23, 9)
        )
    # The other association plans the same zone and slot: its own plan, not a duplicate.
    plan(session, world, "other_supervisor", "stalingrad", date(2026, 3, 26))

    # Another association's plan is no plan for them; cancelling it is refused.
    assert get_own_plan(session, world.other.id, made.id) is None
    with pytest.raises(PlanError):
        cancel_plan(session, user(session, world, "other_supervisor"), made, paris(2026, 3, 24, 9))
    # Once its slot is over, a plan stays (done or missed).
    with pytest.raises(PlanError):
        cancel_plan(session, user(session, world, "supervisor"), made, paris(2026, 3, 27, 9))
    cancel_plan(session, user(session, world, "supervisor"), made, paris(2026, 3, 24, 9))
    assert session.get(PlannedPatrol, made.id) is None
    actions = [
        (entry.action, entry.association_id, entry.details["zone"], entry.details["slot"])
        for entry in session.scalars(
            select(AuditEntry).where(AuditEntry.action.like("plan.%")).order_by(AuditEntry.id)
        )
    ]
    assert actions == [
        ("plan.created", world.demo.id, "stalingrad", "night"),
        ("plan.created", world.other.id, "stalingrad", "night"),
        ("plan.cancelled", world.demo.id, "stalingrad", "night"),
    ]


def test_workers_see_tonight_plans_of_their_association_only(
    session: Session, world: World
) -> None:
    night = date(2026, 3, 26)
    plan(session, world, "supervisor", "stalingrad", night)
    plan(session, world, "supervisor", "porte_chapelle", night, "day")
    plan(session, world, "supervisor", "jardins_eole", night + timedelta(days=1))
    plan(session, world, "other_supervisor", "gare_du_nord", night)
    session.flush()
    for now in (paris(2026, 3, 26, 10), paris(2026, 3, 27, 2)):
        demo = tonight_plans(session, world.demo.id, now)
        assert [item.zone for item in demo] == [zone_name(session, "stalingrad")]
        other = tonight_plans(session, world.other.id, now)
        assert [item.zone for item in other] == [zone_name(session, "gare_du_nord")]


# --------------------------------------------------------------------------- pages


def test_the_board_shows_association_names_never_workers(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    night = tonight(now_utc())
    with app.app_context():
        session = db.session()
        plan(session, world, "other_supervisor", "stalingrad", night, now=now_utc())
        patrol(session, world, "worker", now_utc() - timedelta(days=1), "gare_du_nord")
        for member in session.scalars(select(User)):
            member.display_name = f"Personne-{member.id}-nommée"
        session.commit()
    for role in ("supervisor", "funder", "admin"):
        auth.login_as(world, role)
        response = client.get("/coverage")
        assert response.status_code == 200, role
        page = text_of(response)
        assert world.other.name in page and world.demo.name in page
        assert "Personne-" not in page, role
        auth.logout()
    auth.login_as(world, "worker")
    assert client.get("/coverage").status_code == 403


def test_a_supervisor_plans_and_cancels_from_the_board(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    with app.app_context():
        stalingrad = zone_id(db.session(), "stalingrad")
    night = tonight(now_utc()) + timedelta(days=1)
    auth.login_as(world, "supervisor")
    token = auth.page_token("/coverage")
    form = {
        "csrf_token": token,
        "zone": str(stalingrad),
        "planned_date": night.isoformat(),
        "slot": "night",
    }
    response = client.post("/coverage/plans", data=form)
    assert response.status_code == 302
    again = client.post("/coverage/plans", data=form)
    assert again.status_code == 422 and "déjà planifiée" in text_of(again)
    refused = client.post("/coverage/plans", data={**form, "planned_date": "2020-01-01"})
    assert refused.status_code == 422 and "déjà passé" in text_of(refused)
    with app.app_context():
        [made] = db.session.scalars(select(PlannedPatrol)).all()
        assert made.association_id == world.demo.id
    auth.logout()

    # The other association's supervisor can neither see it as theirs nor cancel it.
    auth.login_as(world, "other_supervisor")
    token = auth.page_token("/coverage")
    assert (
        client.post(f"/coverage/plans/{made.id}/cancel", data={"csrf_token": token}).status_code
        == 404
    )
    auth.logout()

    auth.login_as(world, "supervisor")
    token = auth.page_token("/coverage")
    response = client.post(f"/coverage/plans/{made.id}/cancel", data={"csrf_token": token})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalars(select(PlannedPatrol)).all() == []


def test_the_patrols_home_shows_tonight_plan_of_the_workers_association(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    night = tonight(now_utc())
    with app.app_context():
        session = db.session()
        plan(session, world, "supervisor", "stalingrad", night, now=now_utc())
        plan(session, world, "other_supervisor", "gare_du_nord", night, now=now_utc())
        stalingrad, gare = zone_name(session, "stalingrad"), zone_name(session, "gare_du_nord")
        session.commit()
    auth.login_as(world, "worker")
    page = text_of(client.get("/patrols"))
    assert "Ce soir" in page and stalingrad in page and gare not in page
    auth.logout()
    auth.login_as(world, "other_worker")
    page = text_of(client.get("/patrols"))
    assert gare in page and stalingrad not in page
