"""The one validation of a contact, without HTTP or database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config import Settings
from outreach import create_app
from outreach.capture.validation import CaptureOptions, PatrolAccess, validate_contact

from .support import contact

NOW = datetime(2026, 11, 21, 21, 45, tzinfo=UTC)
OPTIONS = CaptureOptions(
    zones={"stalingrad": 1, "pantin": 2},
    needs=frozenset({"shelter", "food", "rdr_material"}),
    materials=frozenset({"kit_base", "filter"}),
    destinations=frozenset({"shelter_115", "csapa"}),
    patrols={7: PatrolAccess.MEMBER},
)


def payload(**changes: Any) -> dict[str, Any]:
    """DOMAIN.md's example contact, at a fixed moment and in patrol 7."""
    fixed = {
        "id": "6c4f0b35-3f0e-4c1e-9d7a-0a5c0b7f6a11",
        "occurred_at": "2026-11-21T22:40:00+01:00",
        "patrol_id": 7,
    }
    return contact(**{**fixed, **changes})


@pytest.fixture(scope="module")
def bare_app(settings: Settings) -> Flask:
    """No database needed: the app only serves to translate the messages."""
    return create_app(settings)


@pytest.fixture(autouse=True)
def _request_context(bare_app: Flask) -> Any:
    with bare_app.test_request_context():
        yield


def test_the_domain_example_is_valid() -> None:
    draft, errors = validate_contact(payload(), OPTIONS, NOW)
    assert errors == {}
    assert draft is not None
    assert draft.client_id == uuid.UUID("6c4f0b35-3f0e-4c1e-9d7a-0a5c0b7f6a11")
    assert draft.occurred_at == datetime(2026, 11, 21, 21, 40, tzinfo=UTC)
    assert draft.needs == ("rdr_material", "shelter")
    assert draft.materials == (("filter", 4), ("kit_base", 2))
    assert draft.referrals[0].destination == "shelter_115"
    assert draft.referrals[0].accompanied is True
    assert draft.normalised_code == "eli1990"
    assert "eli1990" not in repr(draft), "the code must not leak through repr/logs"


def test_time_is_truncated_to_the_minute_and_naive_means_paris() -> None:
    draft, _ = validate_contact(payload(occurred_at="2026-11-21T22:40:59"), OPTIONS, NOW)
    assert draft is not None
    assert draft.occurred_at == datetime(2026, 11, 21, 21, 40, tzinfo=UTC)


def test_optional_fields_default_to_unknown_and_empty() -> None:
    minimal = {"id": str(uuid.uuid4()), "occurred_at": "2026-11-21T22:00+01:00", "zone": "pantin"}
    draft, errors = validate_contact(minimal, OPTIONS, NOW)
    assert errors == {}
    assert draft is not None
    assert (draft.gender, draft.age_band, draft.housing) == ("unknown", "unknown", "unknown")
    assert draft.needs == () and draft.materials == () and draft.referrals == ()
    assert draft.normalised_code is None and draft.patrol_id is None


def test_zero_quantities_are_dropped() -> None:
    draft, _ = validate_contact(payload(materials={"kit_base": 0, "filter": 1}), OPTIONS, NOW)
    assert draft is not None and draft.materials == (("filter", 1),)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"id": "not-a-uuid"}, "id", "Identifiant invalide"),
        ({"id": None}, "id", "Identifiant manquant"),
        ({"occurred_at": "tomorrow"}, "occurred_at", "illisibles"),
        ({"occurred_at": "2026-11-22T23:00:00+01:00"}, "occurred_at", "futur"),
        ({"occurred_at": "2026-01-01T10:00:00+01:00"}, "occurred_at", "60 jours"),
        ({"zone": "atlantis"}, "zone", "Choisissez une zone"),
        ({"patrol_id": 8}, "patrol_id", "Tournée inconnue"),
        ({"patrol_id": True}, "patrol_id", "Tournée inconnue"),
        ({"person_code": "a-1"}, "person_code", "au moins 3"),
        ({"person_code": "1985"}, "person_code", "au moins une lettre"),
        ({"person_code": "x" * 40}, "person_code", "dépasser 32"),
        ({"person_code": 1990}, "person_code", "illisible"),
        ({"gender": "robot"}, "gender", "Choix inconnu"),
        ({"age_band": 30}, "age_band", "Choix inconnu"),
        ({"housing": "castle"}, "housing", "Choix inconnu"),
        ({"first_contact": "yes"}, "first_contact", "Oui ou non"),
        ({"needs": "shelter"}, "needs", "Liste de besoins"),
        ({"needs": ["shelter", "unicorn"]}, "needs", "unicorn"),
        ({"materials": ["kit_base"]}, "materials", "Quantités"),
        ({"materials": {"kit_base": 1000}}, "materials.kit_base", "Entre 0 et 999"),
        ({"materials": {"kit_base": -1}}, "materials.kit_base", "Entre 0 et 999"),
        ({"materials": {"kit_base": "2"}}, "materials.kit_base", "Nombre entier"),
        ({"materials": {"kit_base": True}}, "materials.kit_base", "Nombre entier"),
        ({"materials": {"caviar": 1}}, "materials.caviar", "Matériel inconnu"),
        ({"referrals": {"destination": "csapa"}}, "referrals", "Liste d'orientations"),
        ({"referrals": [{"destination": "moon"}]}, "referrals.0.destination", "destination"),
        ({"referrals": ["csapa"]}, "referrals.0", "illisible"),
        (
            {"referrals": [{"destination": "csapa"}, {"destination": "csapa"}]},
            "referrals.1.destination",
            "déjà indiquée",
        ),
        (
            {"referrals": [{"destination": "csapa", "status": "lost"}]},
            "referrals.0.status",
            "Statut",
        ),
        (
            {"referrals": [{"destination": "csapa", "accompanied": "oui"}]},
            "referrals.0.accompanied",
            "Oui ou non",
        ),
        ({"referrals": [{"destination": "csapa", "name": "Bob"}]}, "referrals.0.name", "inconnu"),
        ({"referrals": [{"destination": "csapa"}] * 6}, "referrals", "Au plus 5"),
        ({"name": "Bob"}, "name", "Champ inconnu"),
    ],
)
def test_each_bad_field_gets_its_own_french_message(
    changes: dict[str, Any], field: str, message: str
) -> None:
    draft, errors = validate_contact(payload(**changes), OPTIONS, NOW)
    assert draft is None
    assert field in errors, errors
    assert message in " ".join(str(m) for m in errors[field])


def test_several_errors_are_reported_together() -> None:
    _, errors = validate_contact(payload(zone="x", gender="y", needs=["z"]), OPTIONS, NOW)
    assert {"zone", "gender", "needs"} <= set(errors)


def test_not_an_object() -> None:
    draft, errors = validate_contact(["a", "list"], OPTIONS, NOW)
    assert draft is None and "" in errors


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from([*sorted(payload()), "extra"]), json_values, max_size=12))
def test_any_json_gives_a_draft_or_messages_never_an_exception(data: dict[str, Any]) -> None:
    draft, errors = validate_contact({**payload(), **data}, OPTIONS, NOW)
    assert (draft is None) == bool(errors)
    for messages in errors.values():
        assert all(str(message) for message in messages)
