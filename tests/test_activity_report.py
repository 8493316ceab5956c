"""The activity report: figures against counts made here from the generated contacts, the
periods on offer, access, the CSV, the workbook and the page in both languages."""

from __future__ import annotations

import csv
import io
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select

from config import Settings
from outreach.activity_report.services import (
    ActivityReport,
    activity_report,
    offered_periods,
    report_periods,
)
from outreach.clock import PARIS
from outreach.extensions import db
from outreach.models import Association, AuditEntry, User, Zone
from outreach.reports.periods import month_period, quarter_period, year_period

from .conftest import AuthActions, World, text_of
from .reports_fixtures import add_contact, add_patrol, paris

GENDERS = ["female", "male", "other", "unknown"]
AGE_BANDS = ["under_18", "18_24", "25_34", "35_44", "45_54", "55_plus", "unknown"]
HOUSING = ["street", "squat", "emergency_shelter", "hotel", "housed", "unknown"]
ZONES = ["stalingrad", "jardins_eole", "pantin"]
MATERIALS = ["kit_base", "pipe", "syringe"]
DESTINATIONS = ["caarud", "shelter_115", "csapa"]
STATUSES = ["proposed", "accepted", "attended", "not_attended"]
YEAR = 2025
PAGE = "/reports/associations/demo/activity"


@dataclass
class Generated:
    """What the test wrote, in plain Python: the expected figures are counted from it."""

    code: str | None
    when: datetime
    zone: str
    gender: str
    age_band: str
    housing: str
    first_contact: bool
    materials: dict[str, int]
    referrals: list[tuple[str, bool, str]]


@dataclass
class Activity:
    contacts: list[Generated] = field(default_factory=list)
    patrols: list[tuple[datetime, datetime | None, str]] = field(default_factory=list)


def in_year(moment: datetime, year: int = YEAR) -> bool:
    """The ISO year of the moment on a Paris calendar: the report's year, counted apart."""
    return moment.astimezone(PARIS).isocalendar().year == year


@pytest.fixture
def activity(app: Flask, world: World, settings: Settings) -> Activity:
    """Three ISO years of `demo` (2024 to 2026), people met again and again with changing
    attributes, anonymous contacts, patrols; `other` meets some of the same codes."""
    rng = random.Random(21)
    generated = Activity()
    start = paris(2024, 1, 1, 0)
    # Distinct minutes, so that "latest" never needs a tie-break.
    minutes = rng.sample(range(3 * 365 * 24 * 60 - 60 * 24 * 40), 700)
    with app.app_context():
        demo = db.session.get(Association, world.demo.id)
        other = db.session.get(Association, world.other.id)
        worker = db.session.get(User, world.id_of("worker"))
        other_worker = db.session.get(User, world.id_of("other_worker"))
        assert demo and other and worker and other_worker
        for n, minute in enumerate(minutes):
            when = start + timedelta(minutes=minute)
            code = None if rng.random() < 0.25 else f"P{int(rng.paretovariate(1.1) * 3) % 60} 1990"
            contact = Generated(
                code=code,
                when=when,
                zone=rng.choice(ZONES),
                gender=rng.choice(GENDERS),
                age_band=rng.choice(AGE_BANDS),
                housing=rng.choice(HOUSING),
                first_contact=code is None and rng.random() < 0.3,
                materials={m: rng.randint(1, 9) for m in rng.sample(MATERIALS, rng.randint(0, 2))},
                referrals=[
                    (rng.choice(DESTINATIONS), rng.random() < 0.4, rng.choice(STATUSES))
                    for _ in range(rng.choice([0, 0, 1, 2]))
                ],
            )
            # Two referrals of a contact never go to the same destination (as in capture).
            contact.referrals = list({r[0]: r for r in contact.referrals}.values())
            if n % 7 == 0:  # the other association: never in demo's figures
                add_contact(
                    db.session, settings, other, other_worker, when, "stalingrad", code=code
                )
                continue
            generated.contacts.append(contact)
            add_contact(
                db.session,
                settings,
                demo,
                worker,
                when,
                contact.zone,
                code=code,
                gender=contact.gender,
                age_band=contact.age_band,
                housing=contact.housing,
                first_contact=contact.first_contact,
                materials=contact.materials,
                referrals=contact.referrals,
            )
        for n in range(40):
            begin = paris(2024, 12, 20, 21) + timedelta(days=11 * n)
            end = None if n == 20 else begin + timedelta(minutes=90 + 7 * n)
            zone = ZONES[n % 3]
            add_patrol(db.session, demo, worker, begin, end, zone)
            add_patrol(db.session, other, other_worker, begin, begin + timedelta(hours=5))
            generated.patrols.append((begin, end, zone))
        db.session.commit()
    return generated


def report_of(app: Flask, world: World) -> ActivityReport:
    with app.app_context():
        demo = db.session.get(Association, world.demo.id)
        assert demo is not None
        return activity_report(db.session, demo, year_period(YEAR))


def values(report: ActivityReport, section: str) -> dict[str, tuple[float, ...]]:
    found = next(s for s in report.sections if s.code == section)
    return {row.code: row.values for row in found.rows}


def latest_known(contacts: list[Generated], attribute: str) -> str:
    known = [c for c in contacts if getattr(c, attribute) != "unknown"]
    return getattr(max(known, key=lambda c: c.when), attribute) if known else "unknown"


def test_figures_equal_counts_made_from_the_generated_contacts(
    app: Flask, world: World, activity: Activity
) -> None:
    report = report_of(app, world)
    contacts = [c for c in activity.contacts if in_year(c.when)]
    by_person: dict[str, list[Generated]] = defaultdict(list)
    for contact in contacts:
        if contact.code:
            by_person[contact.code].append(contact)
    first_seen: dict[str, datetime] = {}
    for contact in activity.contacts:
        if contact.code:
            first_seen[contact.code] = min(first_seen.get(contact.code, contact.when), contact.when)
    anonymous = [c for c in contacts if c.code is None]
    assert len(by_person) > 20 and len(anonymous) > 30, "the data exercises the report"

    totals = report.totals
    assert totals["contacts"] == len(contacts)
    assert totals["contacts_identified"] == len(contacts) - len(anonymous)
    # People counted once, whatever their number of contacts; anonymous contacts apart.
    assert totals["people_distinct"] == len(by_person)
    assert totals["contacts_anonymous"] == len(anonymous)
    assert totals["contacts_anonymous_first"] == sum(c.first_contact for c in anonymous)
    new = {code for code in by_person if in_year(first_seen[code])}
    assert 0 < totals["people_new"] == len(new) < len(by_person)

    # Each person once, with their latest known value (a later "unknown" does not erase it).
    for section, attribute, codes in (
        ("gender", "gender", GENDERS),
        ("age_band", "age_band", AGE_BANDS),
        ("housing", "housing", HOUSING),
    ):
        expected = Counter(latest_known(c, attribute) for c in by_person.values())
        assert values(report, section) == {code: (expected[code],) for code in codes}, section
    bands = Counter(
        "once" if len(c) == 1 else "2_to_4" if len(c) <= 4 else "5_or_more"
        for c in by_person.values()
    )
    assert values(report, "frequency") == {
        band: (bands[band],) for band in ("once", "2_to_4", "5_or_more")
    }
    assert all(bands.values()), bands

    patrols = [(b, e, z) for b, e, z in activity.patrols if in_year(b)]
    assert totals["patrols"] == len(patrols)
    hours = sum((e - b).total_seconds() / 3600 for b, e, _ in patrols if e is not None)
    assert totals["patrol_hours"] == pytest.approx(hours)
    zones = values(report, "zone")
    for zone in ZONES:
        in_zone = [p for p in patrols if p[2] == zone]
        assert zones[zone] == pytest.approx(
            (
                sum(1 for c in contacts if c.zone == zone),
                len(in_zone),
                sum((e - b).total_seconds() / 3600 for b, e, _ in in_zone if e is not None),
            )
        )
    assert zones["porte_chapelle"] == (0, 0, 0), "an active zone without activity shows 0"

    material = values(report, "material")
    for code in MATERIALS:
        assert material[code] == (sum(c.materials.get(code, 0) for c in contacts),)
    assert totals["material_items"] == sum(sum(c.materials.values()) for c in contacts)

    referrals = [r for c in contacts for r in c.referrals]
    assert totals["referrals"] == len(referrals)
    assert totals["referrals_accompanied"] == sum(1 for r in referrals if r[1])
    destinations = values(report, "referral_destination")
    for code in DESTINATIONS:
        made = [r for r in referrals if r[0] == code]
        assert destinations[code] == (len(made), sum(1 for r in made if r[1]))
    statuses = values(report, "referral_status")
    assert statuses == {
        status: (sum(1 for r in referrals if r[2] == status),)
        for status in (
            "proposed",
            "accepted",
            "refused_by_person",
            "refused_by_service",
            "attended",
            "not_attended",
            "unknown",
        )
    }


def test_a_quarter_and_a_month_count_their_own_weeks(
    app: Flask, world: World, activity: Activity
) -> None:
    """Periods are ISO weeks (a month: the weeks whose Thursday is in it)."""
    with app.app_context():
        demo = db.session.get(Association, world.demo.id)
        assert demo is not None
        for period, keep in (
            (quarter_period(2025, 2), lambda day: day.year == 2025 and 4 <= day.month <= 6),
            (month_period(2025, 3), lambda day: day.year == 2025 and day.month == 3),
        ):
            report = activity_report(db.session, demo, period)

            def thursday(moment: datetime) -> datetime:
                local = moment.astimezone(PARIS)
                return local + timedelta(days=3 - local.weekday())

            contacts = [c for c in activity.contacts if keep(thursday(c.when))]
            assert report.totals["contacts"] == len(contacts), period.key
            people = {c.code for c in contacts if c.code}
            assert report.totals["people_distinct"] == len(people), period.key


def test_periods_on_offer_run_from_the_first_contact_to_the_current_one(
    app: Flask, world: World, activity: Activity
) -> None:
    offered = offered_periods("2025-W50", "2026-W10")
    assert [p.key for p in offered["year"]] == ["2026", "2025"]
    assert [p.key for p in offered["quarter"]] == ["2026-Q1", "2025-Q4"]
    assert [p.key for p in offered["month"]] == ["2026-03", "2026-02", "2026-01", "2025-12"]
    with app.app_context():
        now = paris(2026, 3, 4, 12)
        default = report_periods(db.session, world.demo.id, now)
        assert default is not None and default.chosen == year_period(2025)
        current = report_periods(db.session, world.demo.id, now, "month:2026-03")
        assert current is not None and current.is_current(current.chosen)
        assert not current.is_current(year_period(2025))
        for refused in ("month:2026-04", "year:2023", "ytd:2026", "week:2026-W01", "nonsense"):
            assert report_periods(db.session, world.demo.id, now, refused) is None, refused
        # An association without contacts is offered its current year only.
        assert [p.key for p in report_periods(db.session, 999, now).by_kind["year"]] == ["2026"]


# --- HTTP: access, page, exports -------------------------------------------------------


def test_only_the_associations_supervisor_sees_its_report(
    app: Flask, world: World, activity: Activity
) -> None:
    for key, expected in (
        ("worker", 403),
        ("funder", 403),
        ("admin", 403),
        ("other_supervisor", 404),
    ):
        client = app.test_client()
        AuthActions(client).login_as(world, key)
        for suffix in ("", ".csv", ".xlsx"):
            response = client.get(f"{PAGE}{suffix}", query_string={"period": f"year:{YEAR}"})
            assert response.status_code == expected, (key, suffix, response.status_code)
    client = app.test_client()
    AuthActions(client).login_as(world, "supervisor")
    assert client.get(PAGE).status_code == 200
    assert client.get("/reports/associations/other/activity").status_code == 404
    for refused in ("year:2019", "month:2031-01", "quarter:2025-Q5", "year:abc"):
        assert client.get(PAGE, query_string={"period": refused}).status_code == 404, refused


def supervisor(app: Flask, world: World) -> FlaskClient:
    client = app.test_client()
    AuthActions(client).login_as(world, "supervisor")
    return client


def test_the_page_shows_every_figure_with_its_definition_in_french_and_english(
    app: Flask, world: World, activity: Activity
) -> None:
    report = report_of(app, world)
    client = supervisor(app, world)
    page = text_of(client.get(PAGE, query_string={"period": f"year:{YEAR}"}))
    assert "Rapport d'activité" in page and "Année 2025" in page
    assert "File active (personnes distinctes)" in page
    assert "ne sont donc pas dédoublonnés" in page  # anonymous contacts, said plainly
    assert "modalités d'intervention" in page  # modality is not captured yet
    assert "dernière valeur connue" in page
    people = f"{int(report.totals['people_distinct'])}"
    assert f">{people}<" in client.get(PAGE, query_string={"period": f"year:{YEAR}"}).text

    with app.app_context():
        user = db.session.get(User, world.id_of("supervisor"))
        assert user is not None
        user.locale = "en"
        db.session.commit()
    page = text_of(client.get(PAGE, query_string={"period": f"year:{YEAR}"}))
    assert "Activity report" in page and "Year 2025" in page
    assert "Active file (distinct people)" in page
    assert "not deduplicated" in page
    assert "Rapport d'activité" not in page


def test_the_csv_lists_every_figure_in_long_format(
    app: Flask, world: World, activity: Activity
) -> None:
    report = report_of(app, world)
    client = supervisor(app, world)
    with app.app_context():
        pantin = db.session.scalars(select(Zone).where(Zone.code == "pantin")).one()
        pantin.code = "=cmd"  # a code cannot be edited in the app: a hostile database
        db.session.commit()
    response = client.get(f"{PAGE}.csv", query_string={"period": f"year:{YEAR}"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    assert (
        'filename="maraudes-demo-activite-year-2025.csv"'
        in (response.headers["Content-Disposition"])
    )
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:])))
    assert rows[0] == [
        "association",
        "period_kind",
        "period",
        "first_week",
        "last_week",
        "section",
        "code",
        "measure",
        "value",
    ]
    assert all(row[:5] == ["demo", "year", "2025", "2025-W01", "2025-W52"] for row in rows[1:])
    lines = {(row[5], row[6], row[7]): row[8] for row in rows[1:]}
    assert lines["totals", "people_distinct", "value"] == str(int(report.totals["people_distinct"]))
    assert lines["gender", "female", "people"] == str(int(values(report, "gender")["female"][0]))
    assert lines["zone", "stalingrad", "contacts"] == str(
        int(values(report, "zone")["stalingrad"][0])
    )
    assert ("zone", "'=cmd", "contacts") in lines, "no cell starts a formula"
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    hours = lines["totals", "patrol_hours", "value"]
    assert float(hours) == pytest.approx(report.totals["patrol_hours"], abs=0.01)
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "export")).one()
        assert entry.association_id == world.demo.id
        assert entry.details["kind"] == "activity_report"
        assert entry.details["format"] == "csv"
        assert entry.details["period"] == "year:2025"
        assert entry.details["rows"] == len(rows) - 1


def test_the_workbook_has_a_sheet_per_section_with_numbers_as_numbers(
    app: Flask, world: World, activity: Activity
) -> None:
    report = report_of(app, world)
    client = supervisor(app, world)
    response = client.get(f"{PAGE}.xlsx", query_string={"period": f"year:{YEAR}"})
    assert response.status_code == 200
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    workbook = load_workbook(io.BytesIO(response.get_data()))
    assert workbook.sheetnames == [
        "Période",
        "Synthèse",
        "Personnes par genre",
        "Personnes par âge",
        "Personnes par hébergement",
        "Fréquence des rencontres",
        "Activité par zone",
        "Matériel remis par type",
        "Orientations par destination",
        "Orientations par statut",
        "Définitions",
    ]
    totals = workbook["Synthèse"]
    assert [cell.value for cell in totals[1]] == ["Code", "Intitulé", "Valeur"]
    figures = {row[0].value: row[2].value for row in totals.iter_rows(min_row=2)}
    assert figures["people_distinct"] == report.totals["people_distinct"]
    assert isinstance(figures["people_distinct"], int)
    assert isinstance(figures["patrol_hours"], float)
    zones = workbook["Activité par zone"]
    assert [cell.value for cell in zones[1]] == [
        "Code",
        "Intitulé",
        "Contacts",
        "Tournées",
        "Heures de tournée",
    ]
    by_zone = {row[0].value: [c.value for c in row[2:]] for row in zones.iter_rows(min_row=2)}
    assert by_zone["stalingrad"] == pytest.approx(list(values(report, "zone")["stalingrad"]))
    assert all(
        isinstance(cell.value, int | float)
        for sheet in workbook.worksheets[1:-1]
        for row in sheet.iter_rows(min_row=2, min_col=3)
        for cell in row
    )
    definitions = {row[0].value for row in workbook["Définitions"].iter_rows(min_row=2)}
    assert "File active (personnes distinctes)" in definitions
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "export")).one()
        assert entry.details["format"] == "xlsx"


def test_text_from_the_database_is_never_a_formula_in_the_workbook(
    app: Flask, world: World, activity: Activity
) -> None:
    with app.app_context():
        zone = db.session.scalars(select(Zone).where(Zone.code == "stalingrad")).one()
        zone.name = '=HYPERLINK("http://evil.test","x")'
        db.session.commit()
    client = supervisor(app, world)
    response = client.get(f"{PAGE}.xlsx", query_string={"period": f"year:{YEAR}"})
    sheet = load_workbook(io.BytesIO(response.get_data()))["Activité par zone"]
    cell = next(row[1] for row in sheet.iter_rows(min_row=2) if row[0].value == "stalingrad")
    assert cell.value == '=HYPERLINK("http://evil.test","x")'
    assert cell.data_type == "s"


def test_the_csv_for_french_spreadsheets_has_semicolons_and_decimal_commas(
    app: Flask, world: World, activity: Activity
) -> None:
    report = report_of(app, world)
    client = supervisor(app, world)
    response = client.get(
        f"{PAGE}.csv", query_string={"period": f"year:{YEAR}", "separator": "semicolon"}
    )
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True)[1:]), delimiter=";"))
    assert rows[0][0] == "association" and len(rows[0]) == 9
    hours = next(row[8] for row in rows if row[5:8] == ["totals", "patrol_hours", "value"])
    assert float(hours.replace(",", ".")) == pytest.approx(report.totals["patrol_hours"], abs=0.01)
    assert "," in hours
