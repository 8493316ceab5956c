"""Attacks on the funders' published figures: no reader pins a count from 1 to T-1.

Each attack is a reader who knows the method (docs/reports.md), reads every published
cell as the interval it allows, adds what they know of the structure (zones and
associations add up to totals, a need is met only where there are contacts, a year to
date grows by the people first seen each week, the next release differs from the last
only by what was added) and, as an insider, their own association's exact figures; then
propagates (`tests/disclosure_attacker.py`). Every attack runs twice on the same true
data: against per-table suppression (`tests/disclosure_reference.py`), where it pins the
small count it aims at (so the attack can fail), and against what the app publishes,
where it must pin nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import pytest
from flask import Flask
from sqlalchemy import select

from config import Settings
from outreach.extensions import db
from outreach.funders.services import summary_rows
from outreach.models import Association, User, Zone
from outreach.reports.cellkey import PTable
from outreach.reports.periods import Period, week_period, ytd_period
from outreach.reports.services import funders_summary
from tests.disclosure_attacker import Solver
from tests.disclosure_reference import reader_interval, suppress_table

from .conftest import World
from .reports_fixtures import add_contact, paris

T, D = 5, 3
TABLE = PTable(T, D)
Interval = tuple[float, float]
Release = dict[str, Interval]


@dataclass(frozen=True)
class Visit:
    """One contact of a scenario, as the attack's author knows the truth."""

    association: str
    zone: str
    when: datetime
    needs: tuple[str, ...] = ()
    code: str | None = None

    @property
    def week(self) -> str:
        year, week, _ = self.when.isocalendar()
        return f"{year}-W{week:02d}"


def visits(
    count: int, association: str, zone: str, when: datetime, **kwargs: object
) -> list[Visit]:
    return [Visit(association, zone, when, **kwargs) for _ in range(count)]  # type: ignore[arg-type]


def people(codes: Iterable[str], association: str, zone: str, when: datetime) -> list[Visit]:
    return [Visit(association, zone, when, code=code) for code in codes]


def true_count(
    data: Sequence[Visit], weeks: Sequence[str], code: str, zone: str = "", association: str = ""
) -> int:
    chosen = [
        v
        for v in data
        if v.week in weeks
        and (not zone or v.zone == zone)
        and (not association or v.association == association)
    ]
    if code == "contacts":
        return len(chosen)
    if code == "people_distinct":
        return len({v.code for v in chosen if v.code})
    family, _, entry = code.partition(".")
    assert family == "need", code
    return sum(1 for v in chosen if entry in v.needs)


def cell(period: str, code: str, zone: str = "", association: str = "") -> str:
    return f"{period}|{code}|{zone}|{association}"


def micro(period: str, code: str, zone: str, association: str) -> str:
    return f"{period}|{code}|{zone}|{association}|micro"


# --------------------------------------------------------------------------- publishers


@dataclass
class Place:
    """The database the scenario is written to, and what a reader sees of its layout."""

    app: Flask
    settings: Settings
    zones: list[str] = field(default_factory=list)
    associations: list[str] = field(default_factory=list)

    def write(self, data: Sequence[Visit]) -> None:
        with self.app.app_context():
            author = db.session.scalars(select(User).where(User.role == "worker")).first()
            by_slug = {a.slug: a for a in db.session.scalars(select(Association))}
            for visit in data:
                add_contact(
                    db.session,
                    self.settings,
                    by_slug[visit.association],
                    author,  # type: ignore[arg-type]
                    visit.when,
                    visit.zone,
                    code=visit.code,
                    needs=visit.needs,
                )
            db.session.commit()
            self.zones = list(db.session.scalars(select(Zone.code).order_by(Zone.code)))
            self.associations = sorted(by_slug)


def period_name(period: Period) -> str:
    return f"{period.first_week}..{period.last_week}"


def app_release(place: Place, period: Period, codes: Sequence[str]) -> Release:
    """The funders' CSV rows of that period, read as the method says."""
    release: Release = {}
    with place.app.app_context():
        rows = list(summary_rows(funders_summary(db.session, period, TABLE)))
    for _kind, _key, _first, _last, zone, association, code, value, note in rows:
        if code not in codes:
            continue
        name = cell(period_name(period), str(code), str(zone), str(association))
        if note == "cell-key":
            published = int(value)  # type: ignore[arg-type]
            release[name] = (
                (0, T + D - 1) if published == 0 else (max(T, published - D), published + D)
            )
        else:
            assert note == "", (name, note)
            release[name] = (float(value), float(value))  # type: ignore[arg-type]
    expected = {
        cell(period_name(period), code, *where)
        for code in codes
        for where in [
            ("", ""),
            *((z, "") for z in place.zones),
            *(("", a) for a in place.associations),
        ]
    }
    assert set(release) == expected, "the reader did not find every cell of the release"
    return release


def reference_release(
    place: Place, data: Sequence[Visit], period: Period, codes: Sequence[str]
) -> Release:
    """The same cells under per-table suppression, from the true counts."""
    release: Release = {}
    name = period_name(period)
    for code in codes:
        total = true_count(data, period.weeks, code)
        for key, parts in (
            ("zone", {z: true_count(data, period.weeks, code, zone=z) for z in place.zones}),
            (
                "association",
                {
                    a: true_count(data, period.weeks, code, association=a)
                    for a in place.associations
                },
            ),
        ):
            shown_total, shown = suppress_table(total, parts, T)
            only_small = sum(1 for value in shown.values() if value == "small") == 1
            release[cell(name, code)] = reader_interval(shown_total, T, False)
            for part, value in shown.items():
                where = (part, "") if key == "zone" else ("", part)
                release[cell(name, code, *where)] = reader_interval(value, T, only_small)
    return release


Publisher = Callable[[Place, Sequence[Visit], Period, Sequence[str]], Release]


def publish_app(
    place: Place, data: Sequence[Visit], period: Period, codes: Sequence[str]
) -> Release:
    return app_release(place, period, codes)


PUBLISHERS: Mapping[str, Publisher] = {"suppression": reference_release, "app": publish_app}


# --------------------------------------------------------------------------- the reader


def read(solver: Solver, release: Release) -> None:
    for name, (lo, hi) in release.items():
        solver.cell(name, lo, hi)


def add_structure(
    solver: Solver, place: Place, period: str, code: str, *, additive: bool = True
) -> None:
    """Zones and associations add up to the total; for counts of contacts (additive), each
    zone's cell and each association's are sums of hidden cells, one per zone and association."""
    total = cell(period, code)
    zones = [cell(period, code, zone=z) for z in place.zones]
    associations = [cell(period, code, association=a) for a in place.associations]
    if not additive:
        for part in zones + associations:
            solver.at_most(part, total)
        return
    solver.equal_sum(total, zones)
    solver.equal_sum(total, associations)
    for z in place.zones:
        solver.equal_sum(
            cell(period, code, zone=z), [micro(period, code, z, a) for a in place.associations]
        )
    for a in place.associations:
        solver.equal_sum(
            cell(period, code, association=a), [micro(period, code, z, a) for z in place.zones]
        )


def know_own(
    solver: Solver, place: Place, data: Sequence[Visit], period: Period, code: str, own: str
) -> list[str]:
    """An insider's exact figures of their own association, in every zone."""
    owned = []
    for z in place.zones:
        name = micro(period_name(period), code, z, own)
        solver.exact(name, true_count(data, period.weeks, code, zone=z, association=own))
        owned.append(name)
    owned.append(cell(period_name(period), code, association=own))
    return owned


def pinned_small(solver: Solver, owned: Iterable[str] = ()) -> list[tuple[str, int]]:
    return solver.pinned(T, owned=set(owned))


# --------------------------------------------------------------------------- the attacks


@pytest.fixture
def place(app: Flask, settings: Settings, world: World) -> Place:
    return Place(app, settings)


def with_third_association(app: Flask) -> None:
    with app.app_context():
        db.session.add(Association(slug="third", name="Troisième association"))
        db.session.commit()


W20 = "2026-W20"
W21 = "2026-W21"
MONDAY_W20 = paris(2026, 5, 11, 14)
MONDAY_W21 = paris(2026, 5, 18, 14)


@pytest.mark.parametrize("publisher", PUBLISHERS)
def test_cross_indicator_a_need_within_the_zones_that_have_contacts(
    place: Place, publisher: str
) -> None:
    """A need is met only where there are contacts: zones published with no contact strip
    the need table's hidden cells down to the one zone that holds it."""
    data = [
        *visits(18, "demo", "stalingrad", MONDAY_W20),
        *visits(2, "demo", "stalingrad", MONDAY_W20, needs=("legal",)),
        *visits(4, "demo", "jardins_eole", MONDAY_W20),
        *visits(6, "demo", "jardins_eole", MONDAY_W20, needs=("legal",)),
    ]
    place.write(data)
    period = week_period(W20)
    release = PUBLISHERS[publisher](place, data, period, ["contacts", "need.legal"])
    solver = Solver()
    read(solver, release)
    name = period_name(period)
    add_structure(solver, place, name, "contacts")
    add_structure(solver, place, name, "need.legal")
    for z in place.zones:
        solver.at_most(cell(name, "need.legal", zone=z), cell(name, "contacts", zone=z))
        for a in place.associations:
            solver.at_most(micro(name, "need.legal", z, a), micro(name, "contacts", z, a))
    pinned = pinned_small(solver)
    if publisher == "suppression":
        assert (cell(name, "need.legal", zone="stalingrad"), 2) in pinned
    else:
        assert pinned == []


@pytest.mark.parametrize("publisher", PUBLISHERS)
def test_periods_the_year_to_date_grows_by_the_people_first_seen_that_week(
    place: Place, publisher: str
) -> None:
    """Two successive years to date differ by the people first seen in the last week."""
    regulars = [f"re{n:02d}1980" for n in range(12)]
    data = [
        *people(regulars, "demo", "stalingrad", MONDAY_W20),
        *people([*regulars[:5], "nouveau1990", "nouvelle1991"], "demo", "stalingrad", MONDAY_W21),
    ]
    place.write(data)
    before, after = ytd_period(W20), ytd_period(W21)
    release = {
        **PUBLISHERS[publisher](place, data, before, ["people_distinct"]),
        **PUBLISHERS[publisher](place, data, after, ["people_distinct"]),
    }
    solver = Solver()
    read(solver, release)
    first_seen = f"people first seen in {W21}"
    for period in (before, after):
        add_structure(solver, place, period_name(period), "people_distinct", additive=False)
    solver.relate(
        {
            cell(period_name(after), "people_distinct"): 1,
            cell(period_name(before), "people_distinct"): -1,
            first_seen: -1,
        },
        0,
    )
    pinned = pinned_small(solver)
    if publisher == "suppression":
        assert (first_seen, 2) in pinned
    else:
        assert pinned == []


def assert_insider_pins_only_under_suppression(
    place: Place, publisher: str, data: Sequence[Visit]
) -> None:
    """The other association's 2 contacts in Stalingrad: pinned under per-table suppression,
    not in what the app publishes."""
    pinned = insider_attack(place, publisher, data)
    target = (micro(period_name(week_period(W20)), "contacts", "stalingrad", "other"), 2)
    if publisher == "suppression":
        assert target in pinned
    else:
        assert pinned == []


def insider_attack(place: Place, publisher: str, data: Sequence[Visit]) -> list[tuple[str, int]]:
    """The demo association's supervisor reads week 20's contacts with their own figures."""
    place.write(data)
    period = week_period(W20)
    release = PUBLISHERS[publisher](place, data, period, ["contacts"])
    solver = Solver()
    read(solver, release)
    add_structure(solver, place, period_name(period), "contacts")
    owned = know_own(solver, place, data, period, "contacts", "demo")
    return pinned_small(solver, owned)


@pytest.mark.parametrize("publisher", PUBLISHERS)
def test_insider_with_two_associations_subtracts_their_own_figures(
    place: Place, publisher: str
) -> None:
    """A supervisor knows their association's exact count in every zone: a zone's total
    minus theirs is the other association's count there."""
    data = [
        *visits(10, "demo", "stalingrad", MONDAY_W20),
        *visits(2, "other", "stalingrad", MONDAY_W20),
        *visits(8, "demo", "pantin", MONDAY_W20),
        *visits(9, "other", "jardins_eole", MONDAY_W20),
    ]
    assert_insider_pins_only_under_suppression(place, publisher, data)


@pytest.mark.parametrize("publisher", PUBLISHERS)
def test_insider_with_three_associations_subtracts_their_own_figures(
    app: Flask, place: Place, publisher: str
) -> None:
    """With a third association absent that week (published 0), the same subtraction gives
    the second association's count in a zone."""
    with_third_association(app)
    data = [
        *visits(10, "demo", "stalingrad", MONDAY_W20),
        *visits(2, "other", "stalingrad", MONDAY_W20),
        *visits(6, "other", "jardins_eole", MONDAY_W20),
        *visits(7, "third", "pantin", MONDAY_W21),
    ]
    assert_insider_pins_only_under_suppression(place, publisher, data)


@pytest.mark.parametrize("publisher", PUBLISHERS)
def test_release_differencing_a_backdated_contact(place: Place, publisher: str) -> None:
    """A contact entered late changes a week already published: the reader who kept both
    releases learns what was added, where, by whom and with which need."""
    before = [
        *visits(10, "demo", "stalingrad", MONDAY_W20),
        *visits(7, "other", "jardins_eole", MONDAY_W20),
    ]
    late = [Visit("demo", "stalingrad", MONDAY_W20, needs=("legal",))]
    period = week_period(W20)
    codes = ["contacts", "need.legal"]
    place.write(before)
    first = PUBLISHERS[publisher](place, before, period, codes)
    place.write(late)
    second = PUBLISHERS[publisher](place, before + late, period, codes)

    solver = Solver()
    name = period_name(period)
    for label, release in (("first", first), ("second", second)):
        read(solver, {f"{label}:{key}": interval for key, interval in release.items()})
        for code in codes:
            add_structure(solver, place, f"{label}:{name}", code)
    # Contacts are only added: every cell grows by what was added to it.
    for key in first:
        solver.relate({f"second:{key}": 1, f"first:{key}": -1, f"added:{key}": -1}, 0)
    pinned = pinned_small(solver)
    if publisher == "suppression":
        assert (f"added:{cell(name, 'contacts', zone='stalingrad')}", 1) in pinned
    else:
        assert pinned == []


def test_the_solver_pins_a_small_cell_of_an_unprotected_table() -> None:
    solver = Solver()
    solver.exact("total", 20)
    solver.exact("zone.a", 12)
    solver.exact("zone.b", 6)
    solver.cell("zone.c", 0, 4)
    solver.equal_sum("total", ["zone.a", "zone.b", "zone.c"])
    assert solver.pinned(5) == [("zone.c", 2)]


def test_the_solver_pins_nothing_when_two_small_cells_stay_hidden() -> None:
    solver = Solver()
    solver.exact("total", 20)
    solver.exact("zone.a", 12)
    for name in ("zone.b", "zone.c", "zone.d"):
        solver.cell(name, 0, 4)
    solver.equal_sum("total", ["zone.a", "zone.b", "zone.c", "zone.d"])
    assert solver.pinned(5) == []
