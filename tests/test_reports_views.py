"""Supervisor dashboard and CSV exports, the CLI export, and the funders' pages, over HTTP."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from config import Settings
from outreach.extensions import db
from outreach.models import Association, AuditEntry, Contact, IndicatorTarget, User, Zone
from outreach.reports.csv_export import SEMICOLON, csv_lines, safe_cell

from .conftest import AuthActions, World, text_of
from .reports_fixtures import W14, Scene, add_contact, paris, scene_fixture  # noqa: F401
from .support import read_csv

DASHBOARD = "/reports/associations/demo"


def audit_entries(app: Flask) -> list[AuditEntry]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "export")))


def test_supervisor_dashboard_of_a_week(
    client: FlaskClient, auth: AuthActions, world: World, scene: Scene
) -> None:
    auth.login_as(world, "supervisor")
    assert client.get("/reports").location.endswith(DASHBOARD)
    page = text_of(client.get(f"{DASHBOARD}?week={W14}"))
    assert "Indicateurs · Maraude Démo" in page
    week_and_previous = r'<td class="num">5</td>\s*<td class="num muted">1</td>'
    assert re.search(
        r'def-contacts" class="defined">Contacts</a></th>\s*' + week_and_previous, page
    )
    assert page.count('<svg class="chart"') >= 7 and "<desc id=" in page  # charts and their text
    assert "Données du graphique" in page
    assert 'href="/reports/definitions#def-people_new"' in page
    definitions = text_of(client.get("/reports/definitions"))
    assert 'id="def-people_new"' in definitions and "premier contact" in definitions


def test_the_default_week_is_the_last_complete_one_and_bad_weeks_are_not_found(
    client: FlaskClient, auth: AuthActions, world: World
) -> None:
    auth.login_as(world, "supervisor")
    assert client.get(DASHBOARD).status_code == 200
    for week in ("2026-W99", "2026-13", "2099-W01", "<script>"):
        assert client.get(DASHBOARD, query_string={"week": week}).status_code == 404


def test_another_association_answers_not_found(
    client: FlaskClient, auth: AuthActions, world: World, scene: Scene
) -> None:
    auth.login_as(world, "other_supervisor")
    for url in (
        DASHBOARD,
        f"{DASHBOARD}/export/contacts.csv",
        f"{DASHBOARD}/export/indicators.csv",
    ):
        assert client.get(url, query_string={"week": W14}).status_code == 404
    own = client.get("/reports/associations/other/export/contacts.csv", query_string={"week": W14})
    rows = read_csv(own.data)
    assert len(rows) == 1 + 2  # the other association's own two contacts only
    assert client.get("/reports/associations/nope").status_code == 404


def test_the_two_half_past_twos_of_the_night_clocks_go_back_are_told_apart(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World, settings: Settings
) -> None:
    """On 2026-10-25 Paris lives 02:00-03:00 twice (CEST, then CET): the UTC offset says which."""
    with app.app_context():
        demo = db.session.get(Association, world.demo.id)
        worker = db.session.get(User, world.id_of("worker"))
        assert demo and worker
        first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST
        for moment in (first, first + timedelta(hours=1)):  # then 02:30 CET
            add_contact(db.session, settings, demo, worker, moment)
        db.session.commit()
    auth.login_as(world, "supervisor")
    response = client.get(f"{DASHBOARD}/export/contacts.csv", query_string={"week": "2026-W43"})
    header, *rows = read_csv(response.data)
    when = [(row[header.index("date")], row[header.index("time")]) for row in rows]
    assert when == [("2026-10-25", "02:30")] * 2
    assert [row[header.index("utc_offset")] for row in rows] == ["UTC+02:00", "UTC+01:00"]


def test_contacts_export(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World, scene: Scene
) -> None:
    auth.login_as(world, "supervisor")
    response = client.get(f"{DASHBOARD}/export/contacts.csv", query_string={"week": W14})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="maraudes-demo-{W14}-contacts.csv"'
    )
    header, *rows = read_csv(response.data)
    assert header[:12] == [
        "id", "iso_week", "date", "time", "utc_offset", "zone", "patrol", "pseudonym",
        "first_contact", "gender", "age_band", "housing",
    ]  # fmt: skip
    assert "need.shelter" in header and "material.kit_base" in header
    assert "referrals" in header and "referral.shelter_115" in header
    assert len(rows) == 5
    first = dict(zip(header, rows[0], strict=True))
    # 00:30 on Monday in Paris: the date and time are Paris ones, ISO formatted.
    assert (first["date"], first["time"], first["iso_week"]) == ("2026-03-30", "00:30", W14)
    assert (first["need.shelter"], first["need.food"], first["material.kit_base"]) == (
        "1",
        "0",
        "2",
    )
    assert (first["referrals"], first["referral.shelter_115"], first["referral.csapa"]) == (
        "1",
        "attended",
        "",
    )
    with app.app_context():
        contact = db.session.scalars(select(Contact).order_by(Contact.id)).all()[1]
        assert first["id"] == str(contact.client_id)
        assert first["pseudonym"] == contact.pseudonym_association != contact.pseudonym_region
    second = dict(zip(header, rows[1], strict=True))
    assert second["pseudonym"] == first["pseudonym"]  # "eli-1990" is "Éli 1990"
    [entry] = audit_entries(app)
    assert entry.actor_id == world.id_of("supervisor")
    assert entry.association_id == world.demo.id
    assert entry.details == {"week": W14, "kind": "contacts", "rows": 5, "complete": True}


def test_indicators_export_in_long_format_with_semicolons(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World, scene: Scene
) -> None:
    auth.login_as(world, "supervisor")
    response = client.get(
        f"{DASHBOARD}/export/indicators.csv", query_string={"week": W14, "separator": "semicolon"}
    )
    header, *rows = read_csv(response.data, delimiter=";")
    assert header == ["week", "association", "zone", "indicator", "value"]
    values = {(zone, indicator): value for _, _, zone, indicator, value in rows}
    assert values["", "contacts"] == "5"
    assert values["stalingrad", "contacts"] == "3" and values["pantin", "contacts"] == "2"
    assert values["", "night_share"] == "0,6"  # decimal comma with ';'
    assert values["", "contacts_per_patrol_hour"] == "1,6667"
    assert {week for week, *_ in rows} == {W14} and {a for _, a, *_ in rows} == {"demo"}
    totals = [row for row in rows if row[2] == ""]
    assert len(totals) == len({row[3] for row in rows})  # one total row per indicator
    assert audit_entries(app)[0].details["kind"] == "indicators"


def test_no_cell_can_start_a_formula(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World, settings: Settings
) -> None:
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert safe_cell(f"{start}1+1") == f"'{start}1+1"
    assert safe_cell("stalingrad") == "stalingrad" and safe_cell(None) == ""
    with app.app_context():  # an admin-made zone whose code looks like a formula
        db.session.add(Zone(code='=HYPERLINK("x")', name="Piège", departement="75"))
        db.session.flush()
        demo = db.session.get(Association, world.demo.id)
        worker = db.session.get(User, world.id_of("worker"))
        assert demo and worker
        add_contact(db.session, settings, demo, worker, paris(2026, 4, 1, 12), '=HYPERLINK("x")')
        db.session.commit()
    auth.login_as(world, "supervisor")
    for kind in ("contacts", "indicators"):
        response = client.get(f"{DASHBOARD}/export/{kind}.csv", query_string={"week": W14})
        cells = [cell for row in read_csv(response.data) for cell in row]
        assert '\'=HYPERLINK("x")' in cells
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)


def test_csv_round_trips_through_the_csv_module() -> None:
    rows = [["a,b", 'say "hi"', "two\nlines", 0.25, 3, None], ["é", "=1", "", 1.0, -2, "x;y"]]
    for csv_format, delimiter in ((None, ","), (SEMICOLON, ";")):
        text = "".join(
            csv_lines(
                ["h1", "h2", "h3", "h4", "h5", "h6"], rows, *(csv_format,) if csv_format else ()
            )
        )
        assert text.startswith("\ufeff") and "\r\n" in text
        parsed = list(csv.reader(io.StringIO(text[1:], newline=""), delimiter=delimiter))
        decimal = "," if csv_format else "."
        assert parsed[1] == ["a,b", 'say "hi"', "two\nlines", f"0{decimal}25", "3", ""]
        assert parsed[2] == ["é", "'=1", "", "1", "'-2", "x;y"]


def test_cli_export(app: Flask, world: World, scene: Scene, tmp_path) -> None:
    runner = app.test_cli_runner()
    output = tmp_path / "indicators.csv"
    result = runner.invoke(
        args=[
            "outreach",
            "export",
            "--org",
            "demo",
            "--week",
            W14,
            "--kind",
            "indicators",
            "--output",
            str(output),
        ]
    )
    assert result.exit_code == 0, result.output
    rows = read_csv(output.read_bytes())
    assert ["2026-W14", "demo", "", "contacts", "5"] in rows
    result = runner.invoke(
        args=["outreach", "export", "--org", "other", "--week", W14, "--kind", "contacts"]
    )
    assert result.exit_code == 0 and len(read_csv(result.stdout_bytes)) == 3
    entries = audit_entries(app)
    assert [(e.actor_id, e.details["kind"], e.details["rows"]) for e in entries] == [
        (None, "indicators", len(rows) - 1),
        (None, "contacts", 2),
    ]
    bad = runner.invoke(
        args=["outreach", "export", "--org", "nope", "--week", W14, "--kind", "contacts"]
    )
    assert bad.exit_code != 0 and "nope" in bad.output
    bad = runner.invoke(
        args=["outreach", "export", "--org", "demo", "--week", "W14", "--kind", "contacts"]
    )
    assert bad.exit_code != 0


# --- funders ----------------------------------------------------------------------------


def private_strings(app: Flask) -> set[str]:
    """Everything that would identify a record: pseudonyms and contacts' ids."""
    with app.app_context():
        strings: set[str] = set()
        for contact in db.session.scalars(select(Contact)):
            strings |= {
                str(contact.client_id),
                contact.pseudonym_association or "",
                contact.pseudonym_region or "",
            }
        return strings - {""}


def test_funder_sees_no_row_level_data_anywhere(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World, scene: Scene
) -> None:
    auth.login_as(world, "funder")
    secrets = private_strings(app)
    with app.app_context():
        contact_ids = [str(i) for i in db.session.scalars(select(Contact.id))]
    seen = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint == "static":
            continue
        for ident in contact_ids[:2] or ["1"]:
            url = re.sub(r"<(?:[a-z_]+:)?[a-z_]+>", ident, rule.rule)
            response = client.get(url, query_string={"period": f"week:{W14}"})
            body = response.get_data(as_text=True)
            assert not any(secret in body for secret in secrets), url
            assert response.status_code in (200, 302, 403, 404), url
            seen += response.status_code == 200
    assert seen >= 3  # the summary, its CSV and the definitions at least
    assert client.get(DASHBOARD).status_code == 403


def test_funders_summary_and_csv_publish_perturbed_counts(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World, scene: Scene
) -> None:
    auth.login_as(world, "funder")
    page = text_of(
        client.get("/summary", query_string={"period": f"week:{W14}", "indicator": "contacts"})
    )
    assert "Semaine 2026-W14" in page
    shown = re.search(
        r'def-contacts" class="defined">Contacts</a></th>\s*<td class="num">(\d+)</td>', page
    )
    assert shown and (int(shown[1]) == 0 or 5 <= int(shown[1]) <= 10)  # 7 contacts, D = 3
    assert "< 5" not in page and "masqué" not in page and "Stalingrad" in page
    response = client.get("/summary/export.csv", query_string={"period": f"week:{W14}"})
    assert (
        response.headers["Content-Disposition"]
        == 'attachment; filename="maraudes-synthese-week-2026-W14.csv"'
    )
    header, *rows = read_csv(response.data)
    assert header == [
        "period_kind",
        "period",
        "first_week",
        "last_week",
        "zone",
        "association",
        "indicator",
        "value",
        "note",
    ]
    registry = dict.fromkeys(("patrols", "patrol_hours"), "activity") | dict.fromkeys(
        ("women_share", "night_share", "referral_completion_rate", "contacts_per_patrol_hour"),
        "derived",
    )
    for row in rows:
        record = dict(zip(header, row, strict=True))
        kind = registry.get(record["indicator"], "count")
        if kind == "count":
            assert record["note"] == "cell-key", record
            assert not 0 < int(record["value"]) < 5, record
        elif kind == "activity":
            assert record["note"] == "", record
        else:
            assert record["note"] == "derived", record
            assert record["value"] == "" or len(record["value"].partition(".")[2]) <= 2, record
    assert [r[:7] for r in rows if r[4:7] == ["", "", "contacts"]] == [
        ["week", W14, W14, W14, "", "", "contacts"]
    ]
    [entry] = audit_entries(app)
    assert entry.actor_id == world.id_of("funder") and entry.details["rows"] == len(rows)


def test_funders_choose_fixed_periods_only(
    client: FlaskClient, auth: AuthActions, world: World, scene: Scene
) -> None:
    auth.login_as(world, "funder")
    for period in ("month:2026-04", "quarter:2026-Q2", "ytd:2026", "plan:plan", f"week:{W14}"):
        assert client.get("/summary", query_string={"period": period}).status_code == 200, period
    for period in (
        "week:2026-W60",
        "range:2026-W01..2026-W10",
        "month:2099-01",
        "ytd:2020",
        "week:2026-W12",
    ):
        assert client.get("/summary", query_string={"period": period}).status_code == 404, period
    assert client.get("/summary", query_string={"indicator": "nope"}).status_code == 404


def test_admin_sets_targets_and_funders_see_progress(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World, scene: Scene
) -> None:
    auth.login_as(world, "admin")
    token = auth.page_token("/summary/targets")
    response = client.post(
        "/summary/targets",
        data={"csrf_token": token, "indicator": "contacts", "period": "week", "value": "10"},
    )
    assert response.status_code == 302
    response = client.post(
        "/summary/targets",
        data={"csrf_token": token, "indicator": "night_share", "period": "week", "value": "1.5"},
    )
    assert "fraction entre 0 et 1" in text_of(response)
    with app.app_context():
        [target] = db.session.scalars(select(IndicatorTarget)).all()
        assert (target.indicator, target.period, target.value) == ("contacts", "week", 10)
    auth.logout()
    auth.login_as(world, "funder")
    page = text_of(client.get("/summary", query_string={"period": f"week:{W14}"}))
    # Progress of the published count (7 contacts, perturbed) towards the target of 10.
    shown = re.search(
        r'def-contacts" class="defined">Contacts</a></th>\s*<td class="num">(\d+)</td>', page
    )
    assert shown
    progress = int(shown[1]) / 10
    assert f'value="{min(progress, 1)}"' in page or f'value="{min(progress, 1):g}"' in page
    assert "objectif 10" in page and f"atteint à {round(progress * 100)} %" in page
    assert client.get("/summary/targets").status_code == 403


@pytest.mark.parametrize("role", ["worker", "supervisor"])
def test_association_staff_cannot_open_the_funders_summary(
    client: FlaskClient, auth: AuthActions, world: World, role: str
) -> None:
    auth.login_as(world, role)
    assert client.get("/summary").status_code == 403
    assert client.get("/summary/export.csv").status_code == 403
