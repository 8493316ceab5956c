"""Schemathesis against the served OpenAPI document: whatever it sends, never a 5xx.

Schemathesis' pytest plugin does not support pytest 9 yet, so the operations'
Hypothesis strategies are driven directly.
"""

from __future__ import annotations

import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, status_code_conformance

from .conftest import AuthActions, World


def test_api_answers_every_generated_request_without_a_server_error(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    auth.login_as(world, "worker")
    token = auth.page_token()
    cookie = client.get_cookie("session")
    assert cookie is not None
    headers = {"X-CSRFToken": token}
    cookies = {"session": cookie.value}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.label for op in operations} == {
        "POST /api/v1/contacts",
        "GET /api/v1/form-options",
    }
    statuses: set[int] = set()
    for operation in operations:

        @settings(
            max_examples=80,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case: schemathesis.Case) -> None:
            response = case.call(headers=headers, cookies=cookies)
            statuses.add(response.status_code)
            case.validate_response(response, checks=[not_a_server_error, status_code_conformance])

        check()
    assert 422 in statuses, "the generator reached the validation"
