"""Languages: the English catalogue covers every string, and pages follow the chosen language.

The catalogue tests extract the strings as `make translations` does (babel.cfg, the same
keywords) and compare them with translations/*/LC_MESSAGES/messages.po: a string added
to a template or to the code without its English translation fails here.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from config import PROJECT_ROOT
from outreach.extensions import db
from outreach.i18n import format_day, format_moment
from outreach.models import AuditEntry, User
from outreach.reports.charts import Point, column_chart
from outreach.reports.formatting import format_value
from outreach.reports.indicators import TaxonomyEntry, build_registry, family_indicator

from .conftest import AuthActions, World, csrf_token_of, text_of
from .support import open_form, start, typical

TRANSLATIONS = PROJECT_ROOT / "translations"
# The Makefile's `pybabel extract -k lazy_gettext -k _l -k lazy_text`, on top of Babel's defaults.
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "_l": None, "lazy_text": None}
# %(name)s for Python and Jinja; {name} for the texts the page's script fills in.
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|\{[a-z_]+\}")
ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}
MsgId = str | tuple[str, ...]


def catalogue(language: str) -> Catalog:
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", "rb") as po:
        return read_po(po, locale=language)


def extracted(root: Path = PROJECT_ROOT) -> dict[MsgId, list[str]]:
    """Every translatable string of the code and the templates, with where it is."""
    with open(root / "babel.cfg", encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config, "babel.cfg")
    found: dict[MsgId, list[str]] = defaultdict(list)
    for filename, lineno, message, _comments, _context in extract_from_dir(
        root, method_map, options_map, keywords=KEYWORDS
    ):
        found[message].append(f"{filename}:{lineno}")
    return found


def messages(catalog: Catalog) -> Iterator[Message]:
    return (message for message in catalog if message.id)


def forms(message: Message) -> tuple[str, ...]:
    string = message.string
    return tuple(string) if isinstance(string, (tuple, list)) else (string,)


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def untranslated(source: dict[MsgId, list[str]], catalog: Catalog) -> list[str]:
    problems = []
    for msgid, places in source.items():
        message = catalog.get(msgid)
        if message is None:
            problems.append(f"{places[0]}: {msgid!r} is not in the catalogue")
        elif message.fuzzy:
            problems.append(f"{places[0]}: {msgid!r} is fuzzy (a guess to review)")
        elif not all(forms(message)):
            problems.append(f"{places[0]}: {msgid!r} has no translation")
    return problems


# ------------------------------------------------------------------- the catalogues


def test_every_string_of_the_code_and_templates_has_an_english_translation() -> None:
    source = extracted()
    assert len(source) > 300, "the extraction found too little: is babel.cfg right?"
    assert any(place.startswith("templates/") for places in source.values() for place in places)
    problems = untranslated(source, catalogue("en"))
    assert not problems, (
        "Run `make translations`, then translate in translations/en/LC_MESSAGES/messages.po:\n"
        + "\n".join(problems)
    )


def test_an_untranslated_template_string_is_caught(tmp_path: Path) -> None:
    """The check itself: a new string in a template, unknown to the catalogue, is reported."""
    (tmp_path / "babel.cfg").write_text((PROJECT_ROOT / "babel.cfg").read_text())
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "new.html").write_text(
        '<p>{{ _("Contacts") }}</p><p>{{ _("Une phrase toute neuve") }}</p>'
    )
    problems = untranslated(extracted(tmp_path), catalogue("en"))
    assert problems == ["templates/new.html:1: 'Une phrase toute neuve' is not in the catalogue"]


def test_the_english_catalogue_has_no_leftover_and_compiles() -> None:
    catalog = catalogue("en")
    assert not catalog.fuzzy, "a fuzzy header stops `pybabel compile`: remove '#, fuzzy'"
    source = extracted()
    leftovers = [m.id for m in messages(catalog) if m.id not in source]
    assert not leftovers, f"no longer in the code, run `make translations`: {leftovers}"
    assert [(m.id, errors) for m, errors in catalog.check()] == []


def test_translations_keep_the_placeholders_of_their_msgid() -> None:
    mismatches = []
    for language in ("en", "fr"):
        for message in messages(catalogue(language)):
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            expected = set().union(*(placeholders(text) for text in ids))
            for text in forms(message):
                if text and placeholders(text) != expected:
                    mismatches.append(f"{language}: {message.id!r} -> {text!r}")
    assert not mismatches, "\n".join(mismatches)


def test_the_french_catalogue_only_gives_plural_forms() -> None:
    """French is the msgids; its catalogue exists for French plurals (0 takes the singular)."""
    catalog = catalogue("fr")
    assert catalog.plural_expr == "(n > 1)"
    plural = [m for m in messages(catalog) if m.pluralizable]
    assert plural, "ngettext is used in the templates"
    assert all(all(forms(m)) for m in plural), "translate the French plural forms"
    assert [m.id for m in messages(catalog) if not m.pluralizable and m.string] == []
    assert [m.id for m in messages(catalog) if m.fuzzy] == []


def test_indicator_labels_read_the_same_from_the_catalogue_and_the_registry() -> None:
    """Static indicators carry their English label for reference: it must be the catalogue's."""
    english = catalogue("en")
    registry = build_registry({"need": [], "material": [], "referral": []})
    differing = {
        item.code: (english[str(item.label)].string, item.label_en)
        for item in registry.indicators
        if english[str(item.label)].string != item.label_en
    }
    assert differing == {}


# ------------------------------------------------------------------- rendering


@pytest.fixture(autouse=True, scope="module")
def compiled_catalogues() -> None:
    """What `make test` does first (the .mo are not in git), for a bare `pytest` run too."""
    for language in ("en", "fr"):
        folder = TRANSLATIONS / language / "LC_MESSAGES"
        po, mo = folder / "messages.po", folder / "messages.mo"
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with open(mo, "wb") as output:
                write_mo(output, catalogue(language))


def set_locale(app: Flask, user_id: int, locale: str | None) -> None:
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        user.locale = locale
        db.session.commit()


def test_the_login_page_follows_the_browser_then_french(client: FlaskClient) -> None:
    english = text_of(client.get("/login", headers={"Accept-Language": "en-US,en;q=0.8"}))
    assert '<html lang="en-GB">' in english
    assert "<h1>Log in</h1>" in english and "Email address" in english
    assert "Connexion" not in english
    for headers in ({}, {"Accept-Language": "de-DE,de;q=0.9"}, {"Accept-Language": "fr-FR"}):
        page = text_of(client.get("/login", headers=headers))
        assert '<html lang="fr">' in page and "<h1>Connexion</h1>" in page, headers


def test_the_login_page_switches_language_without_script(client: FlaskClient) -> None:
    page = text_of(client.get("/login?next=/patrols"))
    assert 'href="/login?next=%2Fpatrols&lang=en" lang="en" hreflang="en">English</a>' in page
    response = client.get("/login?next=/patrols&lang=en")
    assert "<h1>Log in</h1>" in text_of(response)
    assert "lang=en;" in response.headers["Set-Cookie"]
    assert 'href="/login?next=%2Fpatrols&lang=fr" lang="fr"' in text_of(response)
    # Remembered on this device, over the browser's own language.
    assert "<h1>Log in</h1>" in text_of(client.get("/login", headers={"Accept-Language": "fr"}))
    client.get("/login?lang=fr")
    assert "<h1>Connexion</h1>" in text_of(client.get("/login", headers=ENGLISH))


def test_a_worker_in_english_gets_the_contact_form_in_english(
    client: FlaskClient, auth: AuthActions, app: Flask, world: World
) -> None:
    set_locale(app, world.id_of("worker"), "en")
    auth.login_as(world, "worker")
    patrol_id = start(client, auth, app, world)
    count = 'data-testid="contact-count">0</span> contacts</p>'
    assert count in text_of(client.get(f"/patrols/{patrol_id}"))
    page = text_of(client.get(f"/patrols/{patrol_id}/contacts/new"))
    assert '<html lang="en-GB">' in page
    for text in (
        "<h1>New contact</h1>",
        "Person's code (optional)",
        "First contact",
        "<legend>Gender</legend>",
        "<span>Woman</span>",
        "<span>Not known</span>",
        "<legend>Needs expressed</legend>",
        "<span>Shelter / accommodation</span>",  # taxonomy labels: the database's label_en
        "<span>Harm-reduction material</span>",
        '<label for="material-kit_base">Crack smoking kit</label>',
        'aria-label="One more: Crack smoking kit"',
        ">115 / SIAO (emergency shelter)</option>",
        "Save contact",
        ">My account</a>",
    ):
        assert text in page, text
    for french in ("Nouveau contact", "Mise à l'abri", "Kit base", "Besoins exprimés", "Genre"):
        assert french not in page, french


def test_the_contact_form_is_french_by_default(
    client: FlaskClient, auth: AuthActions, app: Flask, world: World
) -> None:
    auth.login_as(world, "worker")
    patrol_id = start(client, auth, app, world)
    # French plurals come from the French catalogue: 0 takes the singular.
    count = 'data-testid="contact-count">0</span> contact</p>'
    assert count in text_of(client.get(f"/patrols/{patrol_id}"))
    page = text_of(client.get(f"/patrols/{patrol_id}/contacts/new"))
    assert '<html lang="fr">' in page
    for text in (
        "<h1>Nouveau contact</h1>",
        "<span>Mise à l'abri / hébergement</span>",
        '<label for="material-kit_base">Kit base</label>',
        ">115 / SIAO</option>",
        "Enregistrer le contact",
    ):
        assert text in page, text
    assert "Crack smoking kit" not in page and "New contact" not in page


def test_contact_form_errors_and_flash_messages_in_english(
    client: FlaskClient, auth: AuthActions, app: Flask, world: World
) -> None:
    set_locale(app, world.id_of("worker"), "en")
    auth.login_as(world, "worker")
    patrol_id = start(client, auth, app, world)
    form = open_form(client, patrol_id)
    response = client.post(
        f"/patrols/{patrol_id}/contacts/new",
        data=typical(form, occurred_at="", **{"material-kit_base": "two"}),
    )
    assert response.status_code == 422
    page = text_of(response)
    assert "Nothing was saved: correct the fields marked." in page
    assert "Enter the date and time of the contact." in page
    assert "Expected a whole number." in page
    assert "Rien n'a été enregistré" not in page

    response = client.post(
        f"/patrols/{patrol_id}/contacts/new", data=typical(form), follow_redirects=True
    )
    page = text_of(response)
    assert "Contact saved." in page
    assert 'data-testid="contact-count">1</span> contact</p>' in page
    assert "Shelter / accommodation" in page  # the patrol's last contacts, in English
    assert "115 / SIAO (emergency shelter)" in page


def test_the_account_page_sets_the_language_and_it_lasts(
    client: FlaskClient, auth: AuthActions, app: Flask, world: World
) -> None:
    auth.login_as(world, "worker")
    page = text_of(client.get("/account"))
    assert "<h2>Langue</h2>" in page
    assert 'name="locale" value="" checked' in page  # follows the browser until chosen
    token = csrf_token_of(client.get("/account"))

    response = client.post("/account/language", data={"csrf_token": token, "locale": "en"})
    assert response.status_code == 302 and response.location == "/account"
    page = text_of(client.get("/account"))
    assert "Interface language saved." in page  # the flash message, already in English
    assert "<h1>My account</h1>" in page and 'name="locale" value="en" checked' in page
    with app.app_context():
        user = db.session.get(User, world.id_of("worker"))
        assert user is not None and user.locale == "en"
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "user.locale_changed")
        ).one()
        assert (entry.actor_id, entry.details) == (world.id_of("worker"), {"locale": "en"})

    # A new session, a French browser: the account's choice wins.
    auth.logout()
    auth.login_as(world, "worker")
    assert ">Patrols</a>" in text_of(client.get("/patrols", headers={"Accept-Language": "fr"}))

    token = csrf_token_of(client.get("/account"))
    client.post("/account/language", data={"csrf_token": token, "locale": ""})
    with app.app_context():
        user = db.session.get(User, world.id_of("worker"))
        assert user is not None and user.locale is None
    assert "<h1>Mon compte</h1>" in text_of(client.get("/account"))
    assert "<h1>My account</h1>" in text_of(client.get("/account", headers=ENGLISH))


def test_the_account_language_refuses_unknown_languages_and_forged_posts(
    client: FlaskClient, auth: AuthActions, app: Flask, world: World
) -> None:
    auth.login_as(world, "worker")
    token = csrf_token_of(client.get("/account"))
    response = client.post("/account/language", data={"csrf_token": token, "locale": "de"})
    assert response.status_code == 422
    assert "Choisissez une des langues proposées." in text_of(response)
    assert client.post("/account/language", data={"locale": "en"}).status_code == 400
    with app.app_context():
        user = db.session.get(User, world.id_of("worker"))
        assert user is not None and user.locale is None


# ------------------------------------------------------------------- formatting

MOMENT = datetime(2026, 11, 21, 21, 40, tzinfo=UTC)  # a Saturday, 22:40 in Paris


@pytest.mark.parametrize(
    ("headers", "moment", "day", "share", "hours"),
    [
        (
            {},
            "sam. 21 nov. 22:40",
            "21 nov.",
            "70 %",
            "1\N{NARROW NO-BREAK SPACE}234,5",
        ),
        (ENGLISH, "Sat 21 Nov, 22:40", "21 Nov", "70%", "1,234.5"),
    ],
)
def test_dates_and_numbers_follow_the_language(
    app: Flask, headers: dict[str, str], moment: str, day: str, share: str, hours: str
) -> None:
    registry = build_registry({"need": [], "material": [], "referral": []})
    women, patrol_hours = registry.get("women_share"), registry.get("patrol_hours")
    assert women is not None and patrol_hours is not None
    with app.test_request_context("/", headers=headers):
        assert format_moment(MOMENT) == moment
        assert format_day(MOMENT, "MMMd") == day
        assert format_value(women, 0.7) == share
        assert format_value(patrol_hours, 1234.5) == hours


def test_chart_labels_follow_the_language(app: Flask) -> None:
    shelter = family_indicator("need", TaxonomyEntry("shelter", "Hébergement", "Shelter"))
    for headers, caption, scale in (
        (ENGLISH, "Shelter: 3", "100%"),
        ({}, "Hébergement : 3", "100\N{NO-BREAK SPACE}%"),
    ):
        with app.test_request_context("/", headers=headers):
            chart = column_chart([Point(str(shelter.label), 3, "3")], "t", "d", "c", percent=True)
            assert f"<title>{caption}</title>" in chart, headers
            assert f">{scale}</text>" in chart, headers
