"""The coverage board's plan form (a supervisor plans a patrol for their association)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from ..vocabulary import SLOTS


class PlanForm(FlaskForm):
    zone = SelectField(
        _l("Zone"), coerce=int, validators=[InputRequired(_l("Choisissez une zone."))]
    )
    planned_date = DateField(
        _l("Date"), validators=[InputRequired(_l("Indiquez une date valide."))]
    )
    slot = RadioField(
        _l("Créneau"),
        choices=[SelectChoice(code, label) for code, label in SLOTS.items()],
        default="night",
        validators=[InputRequired(_l("Choisissez le jour ou la nuit."))],
    )
