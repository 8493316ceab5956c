"""Administration forms: formats checked here, uniqueness in services.py."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length, Regexp

from ..forms import lowered, printable, stripped
from ..vocabulary import MATERIAL_CATEGORIES

# Codes are stored on contacts, sent by phones and exported as CSV columns
# (`need.<code>`...): lowercase ASCII, digits and "_", no dot, so that no code can make
# a column name collide with another one (docs/exports.md).
CODE_PATTERN = r"^[a-z][a-z0-9_]*\Z"
# An association's slug keys its pseudonyms and names its export files.
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*\Z"
MAX_CODE_LENGTH = 40

# The plan covers Île-de-France (docs/domain.md: north-east Paris and Seine-Saint-Denis first).
DEPARTEMENTS: dict[str, str] = {
    "75": "Paris",
    "77": "Seine-et-Marne",
    "78": "Yvelines",
    "91": "Essonne",
    "92": "Hauts-de-Seine",
    "93": "Seine-Saint-Denis",
    "94": "Val-de-Marne",
    "95": "Val-d'Oise",
}


def _code_field(description: LazyString) -> StringField:
    return StringField(
        _l("Code"),
        description=description,
        filters=[lowered],
        validators=[
            DataRequired(_l("Indiquez le code.")),
            Length(max=MAX_CODE_LENGTH, message=_l("40 caractères au plus.")),
            Regexp(
                CODE_PATTERN,
                message=_l(
                    "Lettres minuscules sans accent, chiffres et « _ », en commençant par "
                    "une lettre (par exemple : kit_base)."
                ),
            ),
        ],
    )


def _text_field(label: LazyString, required: LazyString, max_length: int = 120) -> StringField:
    """Literal msgids stay at the call sites, where Babel's extraction finds them."""
    return StringField(
        label,
        filters=[stripped],
        validators=[
            DataRequired(required),
            Length(max=max_length, message=_l("%(n)s caractères au plus.", n=max_length)),
            printable,
        ],
    )


def _departement_field() -> SelectField:
    return SelectField(
        _l("Département"),
        choices=[SelectChoice(code, f"{code} – {name}") for code, name in DEPARTEMENTS.items()],
        validators=[DataRequired(_l("Choisissez le département."))],
    )


class AssociationRenameForm(FlaskForm):
    name = _text_field(_l("Nom de l'association"), _l("Indiquez le nom de l'association."))


class AssociationForm(AssociationRenameForm):
    slug = StringField(
        _l("Identifiant"),
        description=_l(
            "Définitif : il sert au calcul des pseudonymes et au nom des exports. "
            "Minuscules sans accent, chiffres et tirets (par exemple : aurore-paris)."
        ),
        filters=[lowered],
        validators=[
            DataRequired(_l("Indiquez l'identifiant.")),
            Length(min=2, max=MAX_CODE_LENGTH, message=_l("Entre 2 et 40 caractères.")),
            Regexp(
                SLUG_PATTERN,
                message=_l(
                    "Minuscules sans accent, chiffres et tirets seulement, sans tiret au "
                    "début ni à la fin (par exemple : aurore-paris)."
                ),
            ),
        ],
    )


class ZoneEditForm(FlaskForm):
    name = _text_field(_l("Nom de la zone"), _l("Indiquez le nom de la zone."))
    departement = _departement_field()


class ZoneForm(ZoneEditForm):
    code = _code_field(
        _l(
            "Définitif : il figure dans les exports et les envois des téléphones "
            "(par exemple : porte_chapelle)."
        )
    )


class LabelsForm(FlaskForm):
    label_fr = _text_field(_l("Libellé en français"), _l("Indiquez le libellé en français."))
    label_en = _text_field(_l("Libellé en anglais"), _l("Indiquez le libellé en anglais."))


class MaterialLabelsForm(LabelsForm):
    category = SelectField(
        _l("Catégorie"),
        choices=[SelectChoice(code, label) for code, label in MATERIAL_CATEGORIES.items()],
        validators=[DataRequired(_l("Choisissez une catégorie."))],
    )


_ENTRY_CODE_HINT = _l(
    "Définitif : il est enregistré avec les contacts et devient une colonne des exports "
    "CSV. Minuscules sans accent, chiffres et « _ »."
)


class EntryForm(LabelsForm):
    code = _code_field(_ENTRY_CODE_HINT)


class MaterialEntryForm(MaterialLabelsForm):
    code = _code_field(_ENTRY_CODE_HINT)


class MoveForm(FlaskForm):
    direction = HiddenField(validators=[AnyOf(("up", "down"))])
