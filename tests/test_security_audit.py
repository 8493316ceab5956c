"""The audit log: what is recorded, who sees it, and what it never holds."""

from __future__ import annotations

import json
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from outreach.audit import audit
from outreach.extensions import db
from outreach.models import AuditEntry, User

from .conftest import PASSWORD, AuthActions, World, csrf_token_of, text_of, totp_code_for

NEW_PASSWORD = "a brand new passphrase for the night"


def all_entries(app: Flask) -> list[AuditEntry]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        db.session.expunge_all()
        return list(rows)


def post(client: FlaskClient, path: str, page: str, **data: str) -> TestResponse:
    token = csrf_token_of(client.get(page))
    return client.post(path, data={"csrf_token": token, **data})


def test_account_events_are_audited_and_no_secret_is_kept(app: Flask, world: World) -> None:
    worker, supervisor, admin = app.test_client(), app.test_client(), app.test_client()
    AuthActions(worker).login(world.users["worker"].email, "a wrong password!")
    AuthActions(worker).login_as(world, "worker")
    post(
        worker,
        "/account/password",
        "/account/password",
        current_password=PASSWORD,
        new_password=NEW_PASSWORD,
        confirm=NEW_PASSWORD,
    )
    AuthActions(supervisor).login_as(world, "supervisor")
    reset = post(
        supervisor, f"/accounts/{world.id_of('worker2')}/password", "/accounts", confirmed="1"
    )
    temporary = re.search(r'class="temporary-password"><code>([a-z0-9-]+)</code>', text_of(reset))
    assert temporary
    AuthActions(admin).login_as(world, "admin")
    post(admin, f"/accounts/{world.id_of('worker2')}/role", "/accounts", role="supervisor")
    post(
        admin,
        f"/accounts/{world.id_of('other_worker')}/active",
        "/accounts",
        active="0",
        confirmed="1",
    )
    code = totp_code_for(app, world.id_of("funder"))

    entries = all_entries(app)
    actions = [entry.action for entry in entries]
    for action in (
        "login.failed",
        "login.succeeded",
        "password.changed",
        "password.reset",
        "user.role_changed",
        "user.deactivated",
        "totp.enrolled",
    ):
        assert action in actions, action
    role_change = next(e for e in entries if e.action == "user.role_changed")
    assert role_change.actor_id == world.id_of("admin")
    assert role_change.association_id == world.demo.id
    assert role_change.details == {
        "user_id": world.id_of("worker2"),
        "previous_role": "worker",
        "role": "supervisor",
    }
    dumped = json.dumps([[e.action, e.details] for e in entries], ensure_ascii=False)
    with app.app_context():
        secrets = [
            PASSWORD,
            NEW_PASSWORD,
            "a wrong password!",
            temporary.group(1),
            code,
            *(u.password_hash for u in db.session.scalars(select(User))),
        ]
    for secret in secrets:
        assert secret not in dumped


def test_a_detail_named_like_a_secret_is_refused(app: Flask, world: World) -> None:
    with app.app_context():
        for name in ("password", "new_password", "token", "person_code", "totp_secret", "code"):
            with pytest.raises(ValueError, match="never holds secrets"):
                audit(db.session, "anything", **{name: "x"})
        audit(db.session, "export", need_code="shelter", rows=3)  # ordinary codes are fine


def test_admins_see_everything_supervisors_their_association_only(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    with app.app_context():
        audit(db.session, "export", association_id=world.demo.id, week="2026-W01")
        audit(db.session, "export", association_id=world.other.id, week="2026-W02")
        audit(db.session, "purge", contacts=7)
        db.session.commit()
    auth.login_as(world, "supervisor")
    page = text_of(client.get("/audit"))
    assert "week=2026-W01" in page
    assert "2026-W02" not in page and "contacts=7" not in page
    auth.logout()
    auth.login_as(world, "admin")
    page = text_of(client.get("/audit"))
    assert "week=2026-W01" in page and "week=2026-W02" in page and "contacts=7" in page
    assert "Purge des données anciennes" in page


def test_a_newline_in_input_cannot_forge_a_row(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    with app.app_context():
        audit(db.session, "export", kind="contacts\n2026-01-01 admin login.succeeded\r\n")
        db.session.commit()
    auth.login_as(world, "admin")
    body = client.get("/audit").get_data(as_text=True)
    rows = re.findall(r"<tr>\s*<td>.*?</tr>", body, re.DOTALL)
    forged = [row for row in rows if "kind=contacts" in row]
    assert len(forged) == 1
    details = re.findall(r"<td>([^<]*)</td>", forged[0])[-1]
    assert "\n" not in details and "\r" not in details


def test_the_audit_log_pages(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    with app.app_context():
        for number in range(150):
            audit(db.session, "export", rows=number)
        db.session.commit()
    auth.login_as(world, "admin")
    first = text_of(client.get("/audit"))
    assert "rows=149" in first and "rows=0" not in first and "Plus anciennes" in first
    second = text_of(client.get("/audit?page=2"))
    assert "rows=0" in second and "rows=149" not in second
    assert client.get("/audit?page=-3").status_code == 200
