"""Filters and validators shared by the features' forms."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field
from wtforms.validators import ValidationError

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def stripped(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def lowered(value: str | None) -> str | None:
    """Phones capitalise the first letter: codes and addresses are kept in lowercase."""
    return value.strip().lower() if isinstance(value, str) else value


def printable(form: FlaskForm, field: Field) -> None:
    """No control character in a name or a label (PostgreSQL refuses NUL bytes anyway)."""
    if isinstance(field.data, str) and _CONTROL.search(field.data):
        raise ValidationError(_l("Caractère invisible refusé : retapez le texte."))
