"""Tenancy, walked over the URL map: another association's ids look missing; funders see none.

Every route that takes an id (or an association's slug) is requested with the records of
association `demo` by the accounts of association `other` whose role the route admits:
each answer must be 404, as for an id that does not exist. A funder reaches no record.
A new route with a parameter this file does not know fails the test: say what it names.
"""

from __future__ import annotations

from flask import Flask

from .conftest import AuthActions, World
from .support import Records, make_records, zone_id
from .test_access import ROLE_MATRIX

ASSOCIATION_ROLES = ("worker", "supervisor")


def id_routes(app: Flask, world: World, records: Records) -> list[tuple[str, str, str]]:
    """(endpoint, URL with demo's ids, method) of every route that takes a parameter."""
    values = {
        "patrol_id": records.patrol_id,
        "contact_id": records.contact_id,
        "referral_id": records.referral_id,
        "plan_id": records.plan_id,
        "user_id": world.id_of("worker"),
        "slug": world.demo.slug,
        "kind": "contacts",  # not an id: which CSV of the association's
        # Administration (admins only): an association, a zone, a taxonomy entry's code.
        "association_id": world.demo.id,
        "zone_id": zone_id(app),
        "code": "shelter",
    }
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.arguments or rule.endpoint == "static":
            continue
        unknown = set(rule.arguments) - set(values)
        assert not unknown, f"{rule.endpoint}: say which record {unknown} names"
        url = rule.build({name: values[name] for name in rule.arguments}, append_unknown=False)
        assert url is not None
        methods = set(rule.methods or ()) - {"HEAD", "OPTIONS"}
        found.append((rule.endpoint, url[1], "GET" if "GET" in methods else "POST"))
    return found


def test_another_associations_ids_answer_404(app: Flask, world: World) -> None:
    records = make_records(app, world)
    routes = id_routes(app, world, records)
    assert {"capture.patrol", "capture.edit_contact", "followup.referral_status"} <= {
        endpoint for endpoint, _, _ in routes
    }
    checked = 0
    for key in ("other_worker", "other_supervisor"):
        client = app.test_client()
        auth = AuthActions(client)
        auth.login_as(world, key)
        token = auth.page_token()
        role = world.users[key].role
        for endpoint, url, method in routes:
            if role not in ROLE_MATRIX.get(endpoint, ()):
                continue  # refused by role: the matrix of test_access checks that
            response = client.open(url, method=method, data={"csrf_token": token})
            assert response.status_code == 404, (key, endpoint, response.status_code)
            checked += 1
    assert checked >= 8


def test_the_same_ids_work_for_their_own_association(app: Flask, world: World) -> None:
    """So that the 404s above are about tenancy, not about ids that do not exist."""
    records = make_records(app, world)
    for key in ASSOCIATION_ROLES:
        client = app.test_client()
        AuthActions(client).login_as(world, key)
        for endpoint, url, method in id_routes(app, world, records):
            if method == "GET" and key in ROLE_MATRIX.get(endpoint, ()):
                # 403 for a patrol one is not a member of: the record exists, it is not hidden.
                assert client.get(url).status_code in (200, 302, 403), (key, endpoint)


def test_a_funder_reaches_no_record(app: Flask, world: World) -> None:
    records = make_records(app, world)
    client = app.test_client()
    auth = AuthActions(client)
    auth.login_as(world, "funder")
    token = auth.page_token()
    for endpoint, url, method in id_routes(app, world, records):
        response = client.open(url, method=method, data={"csrf_token": token})
        assert response.status_code in (403, 404), (endpoint, response.status_code)
    for path in ("/patrols", "/followup", "/team", "/audit", "/accounts", "/api/v1/form-options"):
        assert client.get(path).status_code == 403, path
