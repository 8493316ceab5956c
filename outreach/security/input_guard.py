"""Input no form or field can hold, refused before any view or the database sees it.

PostgreSQL refuses the NUL character in text: a NUL byte in a form field or a JSON
string used to end as a 500 (and SQLite stored it). No field of this app takes one, so
every body carrying one gets a 400 with a message, whatever its route (a JSON body
the API's 422 for invalid input).

Python's JSON decoder recurses once per nesting level: a body nested deeper than the
interpreter's stack raised RecursionError, a 500. The app's JSON provider reads it as
malformed JSON instead, which Flask answers with a 400 (or `get_json(silent=True)` None).
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask.json.provider import DefaultJSONProvider
from flask.wrappers import Response
from flask_babel import gettext as _

from ..errors import error_response

# A NUL character as JSON writes it inside a string (JSON's escape takes a lowercase u).
_JSON_NUL_ESCAPE = b"\\u0000"


def _has_nul(text: str) -> bool:
    return "\x00" in text


def refuse_nul_bytes() -> tuple[str | Response, int] | None:
    """Before every request: a 400 when a form or JSON body holds a NUL.

    Paths and query parameters are matched against routes, codes and patterns before any
    query uses them, so a NUL there finds nothing (404) or is ignored (a `next=` leads home).
    """
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        if any(_has_nul(key) or _has_nul(value) for key, value in request.form.items(multi=True)):
            return _refused()
    elif request.is_json:
        body = request.get_data(cache=True)
        if b"\x00" in body or _JSON_NUL_ESCAPE in body:
            # The API's own answer to invalid input (docs/domain.md: 422, messages by field).
            return jsonify(status="invalid", errors={"": [_nul_message()]}), 422
    return None


def _nul_message() -> str:
    return _("La demande contient un caractère nul : corrigez le texte saisi et recommencez.")


def _refused() -> tuple[str | Response, int]:
    return error_response(400, _nul_message())


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, with a body nested too deep for the decoder taken as malformed."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError as error:
            raise ValueError("JSON nested too deeply") from error
