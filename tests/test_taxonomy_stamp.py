"""The taxonomy stamp (migration 0006) and the captures' cache of the taxonomies by stamp.

Captures read the stamp, not the taxonomies, on every request; any write to the zones or
the taxonomies, by any instance or by hand, renews the stamp in the database, and the next
capture reads the taxonomies again.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from outreach.capture.services import _warn_of_missing_stamp, load_capture_options
from outreach.extensions import db
from outreach.models import TaxonomyStamp

from .conftest import AuthActions, World, recorded_statements
from .support import Api, contact

WRITES = {
    "zones": (
        "INSERT INTO zones (code, name, departement, position, active)"
        " VALUES ('la_villette', 'La Villette', '75', 99, true)",
        "UPDATE zones SET name = 'Stalingrad (quai)' WHERE code = 'stalingrad'",
        "DELETE FROM zones WHERE code = 'la_villette'",
    ),
    "needs": (
        "INSERT INTO needs (code, label_fr, label_en, position, active)"
        " VALUES ('phone', 'Téléphone', 'Phone', 99, true)",
        "UPDATE needs SET active = false WHERE code = 'phone'",
        "DELETE FROM needs WHERE code = 'phone'",
    ),
    "materials": (
        "INSERT INTO materials (code, label_fr, label_en, position, active, category)"
        " VALUES ('gloves', 'Gants', 'Gloves', 99, true, 'other')",
        "UPDATE materials SET label_en = 'Nitrile gloves' WHERE code = 'gloves'",
        "DELETE FROM materials WHERE code = 'gloves'",
    ),
    "referral_destinations": (
        "INSERT INTO referral_destinations (code, label_fr, label_en, position, active)"
        " VALUES ('pharmacy', 'Pharmacie', 'Pharmacy', 99, true)",
        "UPDATE referral_destinations SET position = 98 WHERE code = 'pharmacy'",
        "DELETE FROM referral_destinations WHERE code = 'pharmacy'",
    ),
}


def current_stamp() -> str:
    stamp = db.session.scalars(select(TaxonomyStamp.stamp)).one()
    db.session.rollback()
    return stamp


def execute_elsewhere(statement: str) -> None:
    """A write on a connection of its own, committed: as another instance or an operator."""
    with db.engine.begin() as connection:
        connection.execute(text(statement))


@pytest.mark.parametrize("table", list(WRITES))
def test_every_write_to_a_taxonomy_renews_the_stamp(app: Flask, world: World, table: str) -> None:
    with app.app_context():
        seen = {current_stamp()}
        for statement in WRITES[table]:
            execute_elsewhere(statement)
            stamp = current_stamp()
            assert stamp not in seen, statement
            assert len(stamp) == 32
            seen.add(stamp)


def test_a_write_elsewhere_changes_nothing_to_the_stamp(app: Flask, world: World) -> None:
    with app.app_context():
        before = current_stamp()
        execute_elsewhere("UPDATE associations SET name = 'Demo (renamed)' WHERE slug = 'demo'")
        assert current_stamp() == before


def reads_of_taxonomies(seen: list[str]) -> int:
    return sum("FROM needs" in statement for statement in seen)


def test_captures_read_the_taxonomies_again_only_when_the_stamp_changes(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    api = Api(client, auth)
    api.login(world, "worker")
    assert api.post(contact()).status_code == 201  # whatever was cached before this test
    with recorded_statements(app) as seen:
        assert api.post(contact()).status_code == 201
        assert api.post(contact()).status_code == 201
    assert reads_of_taxonomies(seen) == 0

    # Retired by another instance (or by hand): the next capture knows it at once.
    with app.app_context():
        execute_elsewhere("UPDATE needs SET active = false WHERE code = 'shelter'")
    with recorded_statements(app) as seen:
        refused = api.post(contact(needs=["shelter"]))
        assert api.post(contact(needs=["food"])).status_code == 201
    assert refused.status_code == 422
    assert "needs" in refused.get_json()["errors"]
    assert reads_of_taxonomies(seen) == 1

    # Added elsewhere: usable at once.
    with app.app_context():
        execute_elsewhere(WRITES["needs"][0])
    assert api.post(contact(needs=["phone"])).status_code == 201


def test_without_its_stamp_row_the_taxonomies_are_read_every_time(
    app: Flask, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """A database missing the row (restored by hand) is slower, never wrong; it is said,
    once per process. The next test's reset puts the row back."""
    _warn_of_missing_stamp.cache_clear()
    with app.app_context():
        execute_elsewhere("DELETE FROM taxonomy_stamp")
        with recorded_statements(app) as seen:
            for _ in range(2):
                options = load_capture_options(db.session, world.demo.id)
                db.session.rollback()
        assert reads_of_taxonomies(seen) == 2
        assert "shelter" in options.needs and "stalingrad" in options.zones
    assert caplog.text.count("taxonomy_stamp has no row") == 1
