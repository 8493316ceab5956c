"""Interface languages: which one a request gets, and formatting that follows it.

French is the source language: the msgids are the French texts, English comes from
`translations/en` (compiled by the build). A request's language, first match wins:

1. the logged-in user's own choice (*Mon compte*, `User.locale`);
2. the choice made on this device before logging in: the switcher's `?lang=` link,
   remembered in the `lang` cookie;
3. the browser's `Accept-Language`;
4. French.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from babel import Locale
from babel.dates import format_skeleton
from flask import Flask, has_request_context, request, url_for
from flask.wrappers import Response
from flask_babel import format_time, get_locale, gettext, to_user_timezone
from flask_login import current_user

from .vocabulary import LOCALES

DEFAULT_LANGUAGE = LOCALES[0]
LANGUAGE_PARAMETER = "lang"
LANGUAGE_COOKIE = "lang"
LANGUAGE_COOKIE_MAX_AGE = timedelta(days=365)
# Each language named in itself, as a language menu does: never translated.
LANGUAGE_NAMES = {"fr": "Français", "en": "English"}
# What formats dates and numbers for each language: British English (24-hour clock, day
# before month) suits a service in Paris whose definitions speak of 20:00 and 06:59.
FORMAT_LOCALES = {"fr": "fr", "en": "en_GB"}


def warn_of_missing_catalogues(app: Flask, directory: Path) -> None:
    """Without its compiled catalogue a language silently shows French: say so at start."""
    for language in LOCALES[1:]:
        if not (directory / language / "LC_MESSAGES" / "messages.mo").is_file():
            app.logger.warning(
                "no compiled %s catalogue in %s: run `pybabel compile -d translations`",
                language,
                directory,
            )


def _language(value: str | None) -> str | None:
    return value if value in LOCALES else None


def requested_language() -> str:
    """The language this request asks for (see the module's docstring)."""
    if current_user.is_authenticated and _language(current_user.locale):
        return str(current_user.locale)
    return device_language()


def device_language() -> str:
    """The language chosen on this device, or its browser's: 2 to 4 of the module's
    docstring, without the account (which needs the database)."""
    chosen = _language(request.args.get(LANGUAGE_PARAMETER)) or _language(
        request.cookies.get(LANGUAGE_COOKIE)
    )
    return chosen or request.accept_languages.best_match(LOCALES) or DEFAULT_LANGUAGE


def select_locale() -> str | None:
    """Flask-Babel's locale selector; outside a request (CLI), the default (French)."""
    if not has_request_context():
        return None
    return FORMAT_LOCALES[requested_language()]


def remember_language_choice(response: Response) -> Response:
    """A `?lang=` link (the login page's switcher) is remembered on this device."""
    chosen = _language(request.args.get(LANGUAGE_PARAMETER))
    if chosen is not None and chosen != request.cookies.get(LANGUAGE_COOKIE):
        response.set_cookie(
            LANGUAGE_COOKIE,
            chosen,
            max_age=LANGUAGE_COOKIE_MAX_AGE,
            secure=request.is_secure,
            httponly=True,
            samesite="Lax",
        )
    return response


def current_language() -> str:
    """The interface language of the request ("fr" or "en"); French outside a request."""
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT_LANGUAGE


def html_lang() -> str:
    """The BCP 47 tag of the page (`<html lang>`): "fr", "en-GB"."""
    locale = get_locale() or Locale.parse(DEFAULT_LANGUAGE)
    return "-".join(part for part in (locale.language, locale.territory) if part)


def localized(label_fr: str, label_en: str) -> str:
    """The label in the interface language, for texts kept in both (taxonomies)."""
    return label_en if current_language() == "en" else label_fr


class LazyText:
    """A text worked out each time it is shown, in the language of the request showing it.

    Unlike Flask-Babel's `LazyString`, it declares no `__html__`: it is never taken for
    markup, so templates, `escape` and `Markup` formatting escape it like any `str`. Text
    from the database, or from a request, is never markup.
    """

    __slots__ = ("_args", "_func", "_kwargs")

    def __init__(self, func: Callable[..., str], *args: Any, **kwargs: Any) -> None:
        self._func = func
        self._args = args
        self._kwargs = kwargs

    def __str__(self) -> str:
        return str(self._func(*self._args, **self._kwargs))

    def __repr__(self) -> str:
        return f"LazyText({str(self)!r})"

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # never borrow a protocol (`__html__`...) from the text
            raise AttributeError(name)
        return getattr(str(self), name)

    def __len__(self) -> int:
        return len(str(self))

    def __contains__(self, item: str) -> bool:
        return item in str(self)

    def __add__(self, other: str) -> str:
        return str(self) + other

    def __radd__(self, other: str) -> str:
        return other + str(self)

    def __mod__(self, other: Any) -> str:
        return str(str(self) % other)

    def __eq__(self, other: object) -> bool:
        return str(self) == other

    def __lt__(self, other: str) -> bool:
        return str(self) < other

    def __hash__(self) -> int:
        return hash(str(self))


def lazy_localized(label_fr: str, label_en: str) -> LazyText:
    """`localized`, chosen each time it is shown (for objects built once, e.g. registries)."""
    return LazyText(localized, label_fr, label_en)


def lazy_text(message: str, **variables: Any) -> LazyText:
    """`lazy_gettext` for a message that carries values from a request or the database:
    translated when shown, and escaped there like the values it carries."""
    return LazyText(gettext, message, **variables)


def language_url(language: str) -> str:
    """This page in another language (the switcher's links), its other parameters kept.

    The path is built from the matched route, never copied from the request: a raw path
    such as `/\\evil.example` would make the link another site's. A page that matched no
    route (an error page) links to the home page in that language.
    """
    if request.url_rule is None or request.endpoint is None:
        home: dict[str, Any] = {LANGUAGE_PARAMETER: language}
        return url_for("auth.index", **home)
    parameters = [
        (key, value) for key, value in request.args.items(multi=True) if key != LANGUAGE_PARAMETER
    ]
    path = url_for(request.endpoint, **(request.view_args or {}))
    return f"{path}?{urlencode([*parameters, (LANGUAGE_PARAMETER, language)])}"


def format_day(value: datetime, skeleton: str = "MMMEd") -> str:
    """A day in Paris time, spelt and ordered by the locale ("sam. 21 nov.", "Sat 21 Nov").

    `skeleton` names the fields (CLDR skeleton: MMMEd, yMMMEd, MMMd...), not their order.
    """
    locale = get_locale() or Locale.parse(DEFAULT_LANGUAGE)
    return format_skeleton(skeleton, to_user_timezone(value), locale=locale)


def format_moment(value: datetime, skeleton: str = "MMMEd") -> str:
    """A day and its time, in Paris time: "sam. 21 nov. 22:40", "Sat 21 Nov, 22:40"."""
    locale = get_locale() or Locale.parse(DEFAULT_LANGUAGE)
    pattern: str = locale.datetime_formats["short"]
    return pattern.format(format_time(value, "short"), format_day(value, skeleton))
