from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from ..vocabulary import REFERRAL_STATUSES


class FindPersonForm(FlaskForm):
    person_code = StringField(
        _l("Code de la personne"),
        validators=[DataRequired(_l("Saisissez le code.")), Length(max=64)],
    )


class ReferralStatusForm(FlaskForm):
    status = SelectField(
        _l("Nouveau statut"),
        choices=[SelectChoice(code, label) for code, label in REFERRAL_STATUSES.items()],
        validators=[DataRequired(_l("Choisissez un statut."))],
    )
