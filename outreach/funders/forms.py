from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DecimalField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, NumberRange, Optional

TARGET_PERIOD_LABELS = {
    "week": _l("par semaine"),
    "month": _l("par mois"),
    "quarter": _l("par trimestre"),
    "year": _l("par an"),
    "plan": _l("sur tout le plan"),
}


class TargetForm(FlaskForm):
    """One target: empty value removes it."""

    indicator = SelectField(_l("Indicateur"), validators=[DataRequired()])
    period = SelectField(
        _l("Période"),
        choices=[SelectChoice(code, label) for code, label in TARGET_PERIOD_LABELS.items()],
        validators=[DataRequired()],
    )
    value = DecimalField(
        _l("Objectif"),
        description=_l(
            "Un nombre ; pour une part ou un taux, une fraction entre 0 et 1. "
            "Vide : supprime l'objectif."
        ),
        places=None,
        validators=[Optional(), NumberRange(min=0, max=10_000_000)],
    )
