"""Hypothesis against every form, walked over the URL map: never a 5xx, nothing kept if refused.

Each state-changing route is fuzzed by the first role it admits (anonymous for public
ones), with a valid CSRF token, the field names found on the app's pages, and values
mixing what the pages prefill, choice values, edge cases and random text. Whenever the
answer is 4xx, the database must be exactly as before, except the audit entries that a
refused login is meant to leave (failures, lockouts).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from outreach.auth.access import PUBLIC_ENDPOINTS
from outreach.extensions import db
from outreach.models import AuditEntry

from .conftest import AuthActions, World
from .support import make_records, zone_id
from .test_access import ROLE_MATRIX, STATE_CHANGING

ROLE_ORDER: tuple[str | None, ...] = (None, "worker", "supervisor", "admin", "funder")
NOT_FUZZED = {"auth.logout", "api.post_contacts"}  # logout ends the run; the API: test_fuzz_api
KEPT_WHEN_REFUSED = {"login.failed", "login.second_factor_failed", "login.locked"}
NAME = re.compile(r'name="([^"]+)"')
VALUE = re.compile(r'name="([^"]+)"[^>]*value="([^"]*)"')
OPTION = re.compile(r'<option value="([^"]*)"')
EDGE_CASES = [
    "",
    " ",
    "0",
    "1",
    "-1",
    "2",
    "999999999999999999999999",
    "1e309",
    "NaN",
    "\x00",
    "\u202e",
    "é" * 300,
    "<script>alert(1)</script>",
    "'; DROP TABLE users; --",
    '=HYPERLINK("http://x")',
    "2026-11-21T22:40",
    "2026-W47",
    "00000000-0000-0000-0000-000000000000",
    "stalingrad",
    "shelter_115",
    "accepted",
    "calm",
    "supervisor",
    "admin",
]


def first_admitting_role(endpoint: str) -> str | None:
    """None for public endpoints; "undeclared" for one test_access says is missing."""
    if endpoint in PUBLIC_ENDPOINTS:
        return None
    admitted = ROLE_MATRIX.get(endpoint, set())
    return next((role for role in ROLE_ORDER[1:] if role in admitted), "undeclared")


def snapshot(app: Flask) -> dict[str, list[str]]:
    with app.app_context():
        return {
            table.name: sorted(repr(tuple(row)) for row in db.session.execute(select(table)))
            for table in db.metadata.sorted_tables
            if table.name != "audit_entries"
        }


def audit_actions(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def scrape(client: FlaskClient, paths: list[str]) -> tuple[list[str], dict[str, list[str]]]:
    """Field names and the values the app itself puts in them, from the pages it serves."""
    names: set[str] = set()
    values: dict[str, set[str]] = {}
    options: set[str] = set()
    for path in paths:
        page = client.get(path).get_data(as_text=True)
        names.update(NAME.findall(page))
        for name, value in VALUE.findall(page):
            values.setdefault(name, set()).add(value)
        options.update(OPTION.findall(page))
    names.discard("csrf_token")
    pool = {name: sorted(values.get(name, set()) | options) for name in names}
    return sorted(names), pool


def form_data(names: list[str], pool: dict[str, list[str]]) -> st.SearchStrategy[dict[str, Any]]:
    """Each field present or not, with a prefilled, edge-case or random value (or several)."""

    def value_for(name: str) -> st.SearchStrategy[Any]:
        scalar = st.one_of(
            st.sampled_from(pool.get(name) or [""]),
            st.sampled_from(EDGE_CASES),
            st.text(max_size=40),
        )
        return st.one_of(scalar, st.lists(scalar, min_size=2, max_size=3))

    return st.fixed_dictionaries(
        {}, optional={name: value_for(name) for name in [*names, "unexpected"]}
    )


@pytest.mark.parametrize("role", ROLE_ORDER[:-1])
def test_every_form_answers_garbage_without_a_server_error_and_keeps_nothing(
    app: Flask, world: World, role: str | None
) -> None:
    records = make_records(app, world)
    ids = {
        "patrol_id": records.patrol_id,
        "contact_id": records.contact_id,
        "referral_id": records.referral_id,
        "user_id": world.id_of("worker2"),
        "association_id": world.demo.id,
        "zone_id": zone_id(app),
        "kind": "needs",
        "code": "shelter",
        "plan_id": 2**31 - 1,  # no plan: a cancellation finds nothing to cancel
    }
    client = app.test_client()
    auth = AuthActions(client)
    if role is not None:
        auth.login_as(world, role)
    # Forms posted from another page (one-button actions) take their fields from these.
    hosts = ["/login"] if role is None else ["/account", "/accounts", "/followup/person"]
    token = auth.page_token(hosts[0])
    fuzzed = 0
    for rule in app.url_map.iter_rules():
        methods = set(rule.methods or ()) & STATE_CHANGING
        if not methods or rule.endpoint in NOT_FUZZED:
            continue
        if first_admitting_role(rule.endpoint) != role:
            continue
        built = rule.build({name: ids[name] for name in rule.arguments}, append_unknown=False)
        assert built is not None
        url = built[1]
        names, pool = scrape(client, [url] if "GET" in (rule.methods or ()) else hosts)
        fuzz_one(app, client, token, rule.endpoint, url, form_data(names, pool))
        fuzzed += 1
    assert fuzzed, "every role but the funder has forms of its own"


def fuzz_one(
    app: Flask,
    client: FlaskClient,
    token: str,
    endpoint: str,
    url: str,
    forms: st.SearchStrategy[dict[str, Any]],
) -> None:
    @settings(
        max_examples=15,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=forms)
    def fuzz(data: dict[str, Any]) -> None:
        before, logged = snapshot(app), len(audit_actions(app))
        response = client.post(url, data={**data, "csrf_token": token})
        assert response.status_code < 500, (endpoint, data)
        if response.status_code >= 400:
            assert snapshot(app) == before, (endpoint, response.status_code, data)
            assert set(audit_actions(app)[logged:]) <= KEPT_WHEN_REFUSED, endpoint

    fuzz()


def test_a_superscript_digit_is_refused_not_a_crash(app: Flask, world: World) -> None:
    """Found by the fuzzer: "²".isdigit() is true, but int("²") raises."""
    records = make_records(app, world)
    client = app.test_client()
    auth = AuthActions(client)
    auth.login_as(world, "worker")
    token = auth.page_token(f"/contacts/{records.contact_id}/edit")
    edit, new = f"/contacts/{records.contact_id}/edit", f"/patrols/{records.patrol_id}/contacts/new"
    for url in (edit, new):
        response = client.post(url, data={"csrf_token": token, "material-kit_base": "²"})
        assert response.status_code == 422, url
