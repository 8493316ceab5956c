"""Deny by default, CSRF everywhere, and who may do what, by walking the URL map."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from outreach.auth.access import PUBLIC_ENDPOINTS

from .conftest import AuthActions, World, text_of

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}

# Who may reach each endpoint (GET, or POST for POST-only endpoints). Checked both ways.
ROLE_MATRIX: dict[str, set[str]] = {
    "auth.index": {"worker", "supervisor", "funder", "admin"},
    "auth.logout": {"worker", "supervisor", "funder", "admin"},
    "capture.home": {"worker", "supervisor"},
    "capture.new_patrol": {"worker", "supervisor"},
    "capture.patrol": {"worker", "supervisor"},
    "capture.new_contact": {"worker", "supervisor"},
    "capture.edit_contact": {"worker", "supervisor"},
    "capture.end": {"worker", "supervisor"},
    "followup.find": {"worker", "supervisor"},
    "followup.person": {"worker", "supervisor"},
    "followup.referral_status": {"worker", "supervisor"},
    "followup.queue": {"worker", "supervisor"},
    "followup.queue_status": {"worker", "supervisor"},
    "team.home": {"supervisor"},
    "funders.summary": {"funder", "admin"},
    "funders.export": {"funder", "admin"},
    "funders.targets_page": {"admin"},
    "reports.home": {"supervisor"},
    "reports.dashboard": {"supervisor"},
    "reports.export": {"supervisor"},
    "reports.definitions": {"supervisor", "funder", "admin"},
    "activity_report.page": {"supervisor"},
    "activity_report.csv_export": {"supervisor"},
    "activity_report.xlsx_export": {"supervisor"},
    "admin.home": {"admin"},
    "admin.associations": {"admin"},
    "admin.association": {"admin"},
    "admin.association_active": {"admin"},
    "admin.zones": {"admin"},
    "admin.zone": {"admin"},
    "admin.zone_move": {"admin"},
    "admin.zone_active": {"admin"},
    "admin.taxonomy": {"admin"},
    "admin.entry": {"admin"},
    "admin.entry_move": {"admin"},
    "admin.entry_active": {"admin"},
    "api.post_contacts": {"worker", "supervisor"},
    "api.form_options": {"worker", "supervisor"},
    "auth.account": {"worker", "supervisor", "funder", "admin"},
    "auth.change_password": {"worker", "supervisor", "funder", "admin"},
    "auth.totp_setup": {"worker", "supervisor", "funder", "admin"},
    "auth.totp_disable": {"worker"},
    "auth.recovery_codes": {"worker", "supervisor", "funder", "admin"},
    "auth.account_language": {"worker", "supervisor", "funder", "admin"},
    "accounts.index": {"supervisor", "admin"},
    "accounts.create": {"supervisor", "admin"},
    "accounts.reset_password_view": {"supervisor", "admin"},
    "accounts.reset_second_factor_view": {"supervisor", "admin"},
    "accounts.set_active_view": {"supervisor", "admin"},
    "accounts.change_role_view": {"admin"},
    "security.audit_log": {"supervisor", "admin"},
    "coverage.board": {"supervisor", "funder", "admin"},
    "coverage.plan": {"supervisor"},
    "coverage.cancel": {"supervisor"},
}
ROLES = ("worker", "supervisor", "funder", "admin")


def concrete_url(rule: str) -> str:
    return re.sub(r"<(?:[a-z_]+:)?[a-z_]+>", "1", rule)


def rules(app: Flask) -> list[tuple[str, str, set[str]]]:
    return [
        (rule.endpoint, concrete_url(rule.rule), set(rule.methods or ()) - {"HEAD", "OPTIONS"})
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
    ]


def test_every_endpoint_is_in_the_matrix_or_public(app: Flask) -> None:
    endpoints = {endpoint for endpoint, _, _ in rules(app)}
    assert endpoints - PUBLIC_ENDPOINTS == set(ROLE_MATRIX), "declare who may use a new endpoint"


def test_anonymous_users_reach_only_public_endpoints(app: Flask, client: FlaskClient) -> None:
    for endpoint, url, methods in rules(app):
        if endpoint in PUBLIC_ENDPOINTS:
            continue
        for method in methods:
            response = client.open(url, method=method)
            assert response.status_code in (302, 401), (endpoint, method, response.status_code)
            if response.status_code == 302:
                assert response.location.startswith("/login"), (endpoint, response.location)


def test_every_state_changing_route_refuses_a_request_without_csrf(
    app: Flask, world: World
) -> None:
    """Each one by a user it admits (anonymous for public ones), so that CSRF is what refuses."""
    targets = {
        (endpoint, url, method)
        for endpoint, url, methods in rules(app)
        for method in methods & STATE_CHANGING
    }
    checked = set()
    for role in (None, *ROLES):
        client = app.test_client()
        if role is not None:
            AuthActions(client).login_as(world, role)
        for endpoint, url, method in sorted(targets - checked):
            admitted = (
                endpoint in PUBLIC_ENDPOINTS if role is None else role in ROLE_MATRIX[endpoint]
            )
            if not admitted:
                continue
            response = client.open(url, method=method, data={"anything": "1"})
            assert response.status_code == 400, (role, endpoint, method, response.status_code)
            page = response.get_json()["message"] if response.is_json else text_of(response)
            assert "Le formulaire a expiré" in page, endpoint
            checked.add((endpoint, url, method))
    assert checked == targets


def test_login_itself_requires_csrf(client: FlaskClient, world: World) -> None:
    response = client.post("/login", data={"email": world.users["worker"].email, "password": "x"})
    assert response.status_code == 400


@pytest.mark.parametrize("role", ["worker", "supervisor", "funder", "admin"])
def test_role_matrix(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World, role: str
) -> None:
    auth.login_as(world, role)
    token = auth.page_token()
    for endpoint, url, methods in rules(app):
        if endpoint in PUBLIC_ENDPOINTS or endpoint == "auth.logout":
            continue
        method = "GET" if "GET" in methods else "POST"
        response = client.open(url, method=method, data={"csrf_token": token})
        allowed = role in ROLE_MATRIX[endpoint]
        if allowed:
            # Allowed: the page answers, redirects, finds no id 1, or refuses the empty input.
            assert response.status_code in (200, 302, 404, 422), (
                role,
                endpoint,
                response.status_code,
            )
        else:
            assert response.status_code == 403, (role, endpoint, response.status_code)


# The largest id each converter admits; one more is no row's id (outreach/routing.py).
ID_LIMITS = {"row_id": 2**31 - 1, "big_row_id": 2**63 - 1}
ID_PARAMETER = re.compile(r"<(row_id|big_row_id):[a-z_]+>")


def test_every_id_in_a_url_goes_through_a_bounded_converter(app: Flask) -> None:
    """Werkzeug's plain `int` lets through numbers no column holds (a 500 in the driver)."""
    unbounded = [rule.rule for rule in app.url_map.iter_rules() if "<int:" in rule.rule]
    assert not unbounded


def with_ids(rule: str, id_of: Callable[[int], int]) -> str:
    """The rule with each id replaced by `id_of(the converter's largest id)`."""
    return ID_PARAMETER.sub(lambda match: str(id_of(ID_LIMITS[match.group(1)])), rule)


@pytest.mark.parametrize("role", ["worker", "supervisor", "admin"])
def test_an_id_no_row_can_have_is_a_404_never_a_database_error(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World, role: str
) -> None:
    auth.login_as(world, role)
    token = auth.page_token()
    rules_with_ids = [
        (rule.endpoint, rule.rule, set(rule.methods or ()) - {"HEAD", "OPTIONS"})
        for rule in app.url_map.iter_rules()
        if ID_PARAMETER.search(rule.rule)
    ]
    assert len(rules_with_ids) >= 10
    for endpoint, rule, methods in rules_with_ids:
        for method in methods:
            # Past the column's range: the URL matches no route.
            for past in (lambda limit: limit + 1, lambda _limit: 10**30):
                url = with_ids(rule, past)
                response = client.open(url, method=method, data={"csrf_token": token})
                assert response.status_code == 404, (role, method, url, response.status_code)
            # The largest id a row can have reaches the view, which finds no such row.
            url = with_ids(rule, lambda limit: limit)
            response = client.open(url, method=method, data={"csrf_token": token})
            expected = 404 if role in ROLE_MATRIX[endpoint] else 403
            assert response.status_code == expected, (role, method, url, response.status_code)
