from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    Field,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, EqualTo, Length, Regexp, ValidationError

from ..forms import lowered, printable, stripped
from ..i18n import LANGUAGE_NAMES
from ..vocabulary import ASSOCIATION_ROLES, LOCALES, ROLES
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


class ConfirmForm(FlaskForm):
    """The second step of an action that cannot be undone: only its POST acts."""

    confirmed = HiddenField()

    def is_confirmed(self) -> bool:
        return bool(self.confirmed.data == "1")


class LanguageForm(FlaskForm):
    """The interface language of one's account; "" follows the browser."""

    locale = RadioField(
        _l("Langue de l'interface"),
        choices=[
            SelectChoice("", _l("Celle du navigateur")),
            *(SelectChoice(code, LANGUAGE_NAMES[code]) for code in LOCALES),
        ],
    )


class RoleForm(FlaskForm):
    role = SelectField(
        _l("Nouveau rôle"), choices=[SelectChoice(code, label) for code, label in ROLES.items()]
    )


# Enough to catch a typo: the address is a login, the app never mails it.
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+\Z"


class NewAccountForm(FlaskForm):
    """A supervisor's new team member: a worker of their own association."""

    email = EmailField(
        _l("Adresse e-mail"),
        description=_l("Son identifiant de connexion."),
        filters=[lowered],
        validators=[
            DataRequired(_l("Indiquez l'adresse e-mail.")),
            Length(max=254, message=_l("254 caractères au plus.")),
            Regexp(EMAIL_PATTERN, message=_l("Adresse e-mail invalide.")),
        ],
    )
    display_name = StringField(
        _l("Nom affiché"),
        description=_l("Prénom ou surnom, tel que l'équipe le verra."),
        filters=[stripped],
        validators=[
            DataRequired(_l("Indiquez le nom affiché.")),
            Length(max=80, message=_l("80 caractères au plus.")),
            printable,
        ],
    )


class NewPlatformAccountForm(NewAccountForm):
    """An admin's: any role; an association for workers and supervisors, none otherwise."""

    role = SelectField(
        _l("Rôle"),
        choices=[SelectChoice(code, label) for code, label in ROLES.items()],
        validators=[DataRequired(_l("Choisissez le rôle."))],
    )
    association = SelectField(  # choices: the active associations (view)
        _l("Association"), description=_l("Aucune pour un financeur ou un·e administrateur·rice.")
    )

    def validate_association(self, field: Field) -> None:
        if self.role.data in ASSOCIATION_ROLES and not field.data:
            raise ValidationError(_l("Choisissez l'association de ce compte."))
        if self.role.data not in ASSOCIATION_ROLES and field.data:
            raise ValidationError(
                _l("Un financeur ou un·e administrateur·rice n'appartient à aucune association.")
            )
