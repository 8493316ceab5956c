"""Patrol forms (WTForms) and the contact form's adapter to the shared validation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import IntegerField, RadioField, SelectMultipleField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..models import Contact
from ..vocabulary import ATMOSPHERES, MAX_REFERRALS_PER_CONTACT

# Referral slots rendered by the HTML form (all of them, so that editing never drops one);
# JavaScript only reveals them one by one.
REFERRAL_SLOTS = MAX_REFERRALS_PER_CONTACT


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class StartPatrolForm(FlaskForm):
    zone = RadioField(
        _l("Zone"), coerce=int, validators=[InputRequired(_l("Choisissez une zone."))]
    )
    members = MultiCheckboxField(_l("Équipe"), coerce=int, validators=[Optional()])


class EndPatrolForm(FlaskForm):
    people_seen_not_met = IntegerField(
        _l("Personnes vues mais non rencontrées"),
        default=0,
        validators=[
            InputRequired(_l("Indiquez un nombre (0 si aucune).")),
            NumberRange(0, 999, _l("Entre 0 et 999.")),
        ],
    )
    atmosphere = RadioField(
        _l("Ambiance sur le site"),
        choices=[SelectChoice(code, label) for code, label in ATMOSPHERES.items()],
        validators=[InputRequired(_l("Choisissez l'ambiance."))],
    )
    used_material_collected = IntegerField(
        _l("Matériel usagé ramassé (nombre d'objets)"),
        default=0,
        validators=[
            InputRequired(_l("Indiquez un nombre (0 si aucun).")),
            NumberRange(0, 99999, _l("Entre 0 et 99 999.")),
        ],
    )
    site_observations = TextAreaField(
        _l("Observations sur le site"),
        description=_l(
            "Le lieu seulement (propreté, présence policière, affluence…). "
            "Jamais rien sur une personne : ni nom, ni description."
        ),
        validators=[Optional(), Length(max=1000, message=_l("1 000 caractères au plus."))],
    )


def _as_int(value: str) -> int | str:
    """A number typed in a field, or the text as typed, which validation then refuses."""
    stripped = value.strip()
    # isdigit() alone admits "²", which int() refuses: ASCII digits only.
    if stripped.isascii() and stripped.isdigit():
        try:
            return int(stripped)
        except ValueError:  # past Python's 4,300 digits
            pass
    return stripped


def contact_payload_from_form(form: MultiDict[str, str], patrol_id: int | None) -> dict[str, Any]:
    """Turn the HTML form into the API's JSON shape, for the one shared validation."""
    materials: dict[str, Any] = {}
    for key, value in form.items():
        if key.startswith("material-") and value.strip() not in ("", "0"):
            materials[key.removeprefix("material-")] = _as_int(value)
    referrals = []
    for slot in range(REFERRAL_SLOTS):
        destination = form.get(f"referral-{slot}-destination", "")
        if destination:
            referrals.append(
                {
                    "destination": destination,
                    "accompanied": form.get(f"referral-{slot}-accompanied") == "1",
                }
            )
    return {
        "id": form.get("id", ""),
        "occurred_at": form.get("occurred_at", ""),
        "zone": form.get("zone", ""),
        "patrol_id": patrol_id,
        "person_code": form.get("person_code", ""),
        "gender": form.get("gender", ""),
        "age_band": form.get("age_band", ""),
        "housing": form.get("housing", ""),
        "first_contact": form.get("first_contact") == "1",
        "needs": form.getlist("needs"),
        "materials": materials,
        "referrals": referrals,
    }


def contact_payload_from_record(contact: Contact, local_time: str) -> dict[str, Any]:
    """Prefill the edit form; the person code is never shown again (only its pseudonym exists)."""
    return {
        "id": str(contact.client_id),
        "occurred_at": local_time,
        "zone": contact.zone.code,
        "patrol_id": contact.patrol_id,
        "person_code": "",
        "gender": contact.gender,
        "age_band": contact.age_band,
        "housing": contact.housing,
        "first_contact": contact.first_contact,
        "needs": [need.need_code for need in contact.needs],
        "materials": {item.material_code: item.quantity for item in contact.materials},
        "referrals": [
            {"destination": r.destination_code, "accompanied": r.accompanied}
            for r in contact.referrals
        ],
    }


def scrub_person_code(payload: Mapping[str, Any]) -> dict[str, Any]:
    """A form shown again after an error never echoes the person code back."""
    return {**payload, "person_code": ""}
