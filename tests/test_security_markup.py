"""Text typed by an admin or a user (zone, label, association and account names, patrol
reports) is text, never markup: every page that shows it, to every role that sees it, in
both languages, prints it escaped. The CSP stops scripts, not a `<meta http-equiv=refresh>`
sending a funder to another site."""

from __future__ import annotations

import re

from flask import Flask, render_template_string
from flask.testing import FlaskClient
from markupsafe import Markup, escape
from sqlalchemy import select, update

from outreach.clock import iso_week_of, now_utc
from outreach.extensions import db
from outreach.i18n import lazy_localized, lazy_text
from outreach.models import Association, Contact, Material, Need, ReferralDestination, User, Zone

from .conftest import AuthActions, World
from .support import open_form, start, typical

HOSTILE = '<meta http-equiv="refresh" content="0;url=https://evil.example/"><b>x</b>'
RAW = ("<meta http-equiv", "<b>x</b>")
ESCAPED = "&lt;b&gt;x&lt;/b&gt;"


def hostile_world(app: Flask, client: FlaskClient, auth: AuthActions, world: World) -> int:
    """A patrol ended with a hostile report, another open with a contact, then every
    admin-editable text made hostile. Returns the open patrol's id."""
    auth.login_as(world, "worker")
    ended = start(client, auth, app, world)
    client.post(f"/patrols/{ended}/contacts/new", data=typical(open_form(client, ended)))
    token = auth.page_token(f"/patrols/{ended}/end")
    response = client.post(
        f"/patrols/{ended}/end",
        data={
            "csrf_token": token,
            "people_seen_not_met": "2",
            "atmosphere": "calm",
            "used_material_collected": "1",
            "site_observations": HOSTILE,
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    open_patrol = start(client, auth, app, world)
    client.post(
        f"/patrols/{open_patrol}/contacts/new", data=typical(open_form(client, open_patrol))
    )
    auth.logout()
    with app.app_context():
        db.session.execute(update(Zone).values(name=HOSTILE))
        db.session.execute(update(Association).values(name=HOSTILE))
        db.session.execute(update(User).values(display_name=HOSTILE))
        for model in (Need, Material, ReferralDestination):
            db.session.execute(update(model).values(label_fr=HOSTILE, label_en=HOSTILE))
        db.session.commit()
    return open_patrol


def assert_escaped(client: FlaskClient, path: str, *, shows: bool = True) -> None:
    for language in ("fr", "en"):
        separator = "&" if "?" in path else "?"
        response = client.get(f"{path}{separator}lang={language}")
        assert response.status_code == 200, (path, response.status_code)
        page = response.get_data(as_text=True)
        for raw in RAW:
            assert raw not in page, (path, language)
        if shows:
            assert ESCAPED in page, (path, language)


def test_admin_edited_and_typed_texts_are_escaped_on_every_page(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    open_patrol = hostile_world(app, client, auth, world)
    with app.app_context():
        [contact_id] = db.session.scalars(
            select(Contact.id).where(Contact.patrol_id == open_patrol)
        ).all()
        ended = open_patrol - 1
        zone = db.session.scalar(db.select(Zone.id).limit(1))
    week = iso_week_of(now_utc())

    auth.login_as(world, "worker")
    for path in (
        "/patrols",
        f"/patrols/{ended}",
        f"/patrols/{open_patrol}",
        f"/patrols/{open_patrol}/contacts/new",
        f"/contacts/{contact_id}/edit",
        f"/patrols/{open_patrol}/end",
    ):
        assert_escaped(client, path)
    form = open_form(client, open_patrol)
    refused = client.post(
        f"/patrols/{open_patrol}/contacts/new", data=typical(form, needs=[HOSTILE])
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert not any(raw in page for raw in RAW) and ESCAPED in page
    token = auth.page_token("/followup")
    client.post("/followup", data={"csrf_token": token, "person_code": "Éli 1990"})
    assert_escaped(client, "/followup/person")
    assert_escaped(client, "/account")
    auth.logout()

    auth.login_as(world, "supervisor")
    for path in (
        "/team",
        "/patrols/new",
        "/accounts",
        "/accounts/new",
        "/reports/associations/demo",
        f"/reports/associations/demo?week={week}",
        "/reports/associations/demo/activity",
        "/reports/definitions",
        f"/patrols/{ended}",
        "/coverage",
        "/audit",
    ):
        assert_escaped(client, path, shows=path != "/audit")  # the journal shows addresses
    for kind in ("contacts", "indicators"):
        export = client.get(f"/reports/associations/demo/export/{kind}.csv?week={week}")
        assert export.status_code == 200 and export.get_data()
        assert export.mimetype == "text/csv"
        assert export.headers["X-Content-Type-Options"] == "nosniff"
    auth.logout()

    auth.login_as(world, "funder")
    for path in (
        "/summary",
        "/summary?indicator=need.shelter",
        "/reports/definitions",
        "/coverage",
    ):
        assert_escaped(client, path)
    export = client.get("/summary/export.csv")
    assert export.status_code == 200 and export.get_data()
    assert export.mimetype == "text/csv"
    auth.logout()

    auth.login_as(world, "admin")
    for path in (
        "/admin",
        "/admin/associations",
        f"/admin/associations/{world.demo.id}",
        "/admin/zones",
        f"/admin/zones/{zone}",
        "/accounts",
        "/accounts/new",
        "/summary",
        "/summary/targets",
        "/reports/definitions",
        "/coverage",
        "/audit",
    ):
        assert_escaped(client, path, shows=path != "/audit")
    for kind in ("needs", "materials", "destinations"):
        page = client.get(f"/admin/taxonomies/{kind}").get_data(as_text=True)
        assert not any(raw in page for raw in RAW) and ESCAPED in page, kind
        code = re.search(rf'href="/admin/taxonomies/{kind}/([a-z0-9_]+)"', page)
        assert code, kind
        assert_escaped(client, f"/admin/taxonomies/{kind}/{code.group(1)}")


def test_a_lazy_label_is_escaped_and_follows_the_language(app: Flask) -> None:
    label = lazy_localized("<b>fr</b>", "<b>en</b>")
    message = lazy_text("Besoin inconnu : %(codes)s.", codes="<b>x</b>")
    assert not hasattr(label, "__html__") and not hasattr(message, "__html__")
    template = "{{ label }} {{ message }} {{ _('%(label)s', label=label) }}"
    for language, unknown in (("fr", "Besoin inconnu :"), ("en", "Unknown need:")):
        shown = f"&lt;b&gt;{language}&lt;/b&gt;"
        with app.test_request_context(f"/login?lang={language}"):
            assert render_template_string(template, label=label, message=message) == (
                f"{shown} {unknown} &lt;b&gt;x&lt;/b&gt;. {shown}"
            )
            assert str(escape(label)) == shown
            assert str(Markup("<p>%s</p>") % label) == f"<p>{shown}</p>"
