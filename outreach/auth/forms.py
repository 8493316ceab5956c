from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, Field, HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, EqualTo, Length, ValidationError

from ..vocabulary import ROLES
from .passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    PasswordProblem,
    context_words,
    password_problem,
)


class LoginForm(FlaskForm):
    email = EmailField(
        _l("Adresse e-mail"),
        validators=[DataRequired(_l("Indiquez votre adresse e-mail.")), Length(max=254)],
    )
    password = PasswordField(
        _l("Mot de passe"),
        validators=[DataRequired(_l("Indiquez votre mot de passe.")), Length(max=128)],
    )


class CsrfOnlyForm(FlaskForm):
    """One-button POSTs (logout, end of patrol...) still go through a CSRF form."""


class SecondFactorForm(FlaskForm):
    code = StringField(
        _l("Code de l'application ou code de secours"),
        validators=[DataRequired(_l("Indiquez le code.")), Length(max=32)],
        description=_l("6 chiffres affichés par l'application, ou un code de secours."),
    )


class ConfirmTotpForm(FlaskForm):
    code = StringField(
        _l("Code affiché par l'application"),
        validators=[DataRequired(_l("Indiquez le code.")), Length(max=16)],
    )


class ChangePasswordForm(FlaskForm):
    """The current password, then a new one twice, checked against the policy."""

    current_password = PasswordField(
        _l("Mot de passe actuel"),
        validators=[DataRequired(_l("Indiquez votre mot de passe actuel.")), Length(max=128)],
    )
    new_password = PasswordField(
        _l("Nouveau mot de passe"),
        validators=[DataRequired(_l("Indiquez un nouveau mot de passe."))],
        description=_l("Au moins 12 caractères. Une phrase de plusieurs mots se retient bien."),
    )
    confirm = PasswordField(
        _l("Nouveau mot de passe, encore"),
        validators=[
            DataRequired(_l("Retapez le nouveau mot de passe.")),
            EqualTo("new_password", _l("Les deux mots de passe diffèrent.")),
        ],
    )

    def __init__(self, email: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.email = email

    def validate_new_password(self, field: Field) -> None:
        problem = password_problem(field.data or "", context_words(self.email))
        if problem is PasswordProblem.LENGTH:
            raise ValidationError(
                _l(
                    "Entre %(min)s et %(max)s caractères.",
                    min=MIN_PASSWORD_LENGTH,
                    max=MAX_PASSWORD_LENGTH,
                )
            )
        if problem is PasswordProblem.COMMON:
            raise ValidationError(
                _l("Mot de passe trop courant ou trop facile à deviner : choisissez-en un autre.")
            )


class ActiveForm(FlaskForm):
    active = HiddenField(validators=[AnyOf(("0", "1"))])


class RoleForm(FlaskForm):
    role = SelectField(
        _l("Nouveau rôle"), choices=[SelectChoice(code, label) for code, label in ROLES.items()]
    )
