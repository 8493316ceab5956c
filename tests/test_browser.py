"""Real browser tests: a phone-sized Chromium drives the app served on a live port.

What a street worker does, tap by tap: log in, start a patrol, log a contact, follow a
referral up by the person's code, end the patrol. The outcomes are checked in the page
(visible text) and in the database. Full-page screenshots land in `conftest.ARTIFACTS`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    Playwright,
    expect,
    sync_playwright,
)
from sqlalchemy import func, select
from werkzeug.serving import make_server

from outreach.extensions import db
from outreach.models import Contact, Patrol, Referral, ReferralStatusChange

from tests.conftest import ARTIFACTS, PASSWORD, World

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DEVICE = "Pixel 5"
MAX_TAPS_FOR_A_TYPICAL_CONTACT = 8
MIN_TAP_TARGET_PX = 44
TIMEOUT_MS = 10_000

expect.set_options(timeout=TIMEOUT_MS)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is absent: install Debian's chromium to run the browser tests"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the browser tests, but {reason}", pytrace=False)
        pytest.skip(reason)
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@dataclass
class RequestLog:
    """(method, path) of every request that reached the live server, in arrival order."""

    seen: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wrap(self, app: WSGIApp) -> WSGIApp:
        def logged(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            with self.lock:
                self.seen.append((environ["REQUEST_METHOD"], environ["PATH_INFO"]))
            return app(environ, start_response)

        return logged

    def posts_to(self, suffix: str) -> int:
        with self.lock:
            return sum(
                1 for method, path in self.seen if method == "POST" and path.endswith(suffix)
            )


@pytest.fixture
def request_log() -> RequestLog:
    return RequestLog()


@pytest.fixture
def live_server(app: Flask, world: World, request_log: RequestLog) -> Iterator[str]:
    """The app (fresh database, World's users) served on a free local port."""
    server = make_server("127.0.0.1", 0, request_log.wrap(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def open_context(browser: Browser, playwright: Playwright, **overrides: Any) -> BrowserContext:
    options = {
        **playwright.devices[DEVICE],
        "locale": "fr-FR",
        "timezone_id": "Europe/Paris",
        **overrides,
    }
    context = browser.new_context(**options)
    context.set_default_timeout(TIMEOUT_MS)
    return context


@pytest.fixture
def page(browser: Browser, playwright: Playwright) -> Iterator[Page]:
    """A fresh phone (Pixel 5) context per test: no cookie survives from one test to the next."""
    context = open_context(browser, playwright)
    try:
        yield context.new_page()
    finally:
        context.close()


# --------------------------------------------------------------------------- helpers


def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def flash(page: Page, text: str) -> Locator:
    return page.get_by_role("status").filter(has_text=text)


def log_in(page: Page, base_url: str, email: str, *, shot: str | None = None) -> None:
    page.goto(f"{base_url}/login")
    expect(page.get_by_role("heading", name="Connexion")).to_be_visible()
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    if shot:
        screenshot(page, shot)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("link", name="Suivi")).to_be_visible()


def start_patrol(page: Page, zone: str = "Stalingrad") -> None:
    """From the patrols home: pick the zone chip, start; lands on the patrol page."""
    page.get_by_role("link", name="Commencer une tournée").click()
    chip(page, "Zone", zone).click()
    expect(page.get_by_role("radio", name=zone)).to_be_checked()
    page.get_by_role("button", name="Commencer").click()
    expect(flash(page, "Tournée commencée. Bonne maraude !")).to_be_visible()
    expect(page.get_by_role("heading", level=1, name=zone)).to_be_visible()
    expect(page.get_by_test_id("contact-count")).to_have_text("0")


def open_contact_form(page: Page) -> None:
    page.get_by_role("link", name="Nouveau contact").click()
    expect(page.get_by_role("heading", name="Nouveau contact")).to_be_visible()
    # app.js reveals the steppers' buttons: wait for it, so that taps hit real buttons.
    expect(page.get_by_role("button", name="Un de plus : Kit base")).to_be_visible()


def chip(page: Page, group: str, label: str) -> Locator:
    """A chip: the label.chip around a visually hidden radio/checkbox, found by its text.

    The transparent input covers its label, so a tap on the text lands on the input.
    """
    labels = page.get_by_role("group", name=group).locator("label.chip")
    return labels.filter(has=page.get_by_text(label, exact=True))


def plus(page: Page, material: str) -> Locator:
    return page.get_by_role("button", name=f"Un de plus : {material}")


def save_button(page: Page) -> Locator:
    return page.get_by_role("button", name="Enregistrer le contact")


def contacts_in_db(app: Flask) -> list[Contact]:
    with app.app_context():
        contacts = db.session.scalars(select(Contact).order_by(Contact.id)).all()
        for contact in contacts:  # load what the tests read before the session goes
            _ = contact.needs, contact.materials, contact.referrals
        db.session.expunge_all()
        return list(contacts)


def contact_rows(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Contact)) or 0


class Taps:
    """Counts every tap that the worker makes."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, locator: Locator) -> None:
        self.count += 1
        locator.click()


# --------------------------------------------------------------------------- tests


def test_worker_journey_contact_followup_and_end_of_patrol(
    page: Page, live_server: str, world: World, app: Flask
) -> None:
    log_in(page, live_server, world.users["worker"].email, shot="01-login")
    expect(page.get_by_role("heading", level=1, name="Tournées", exact=True)).to_be_visible()
    start_patrol(page, "Stalingrad")
    screenshot(page, "02-patrol-started")

    # One contact, on one screen.
    open_contact_form(page)
    page.get_by_label("Code de la personne (facultatif)").fill("Éli 1990")
    chip(page, "Genre", "Femme").click()
    chip(page, "Besoins exprimés", "Alimentation").click()
    chip(page, "Besoins exprimés", "Hygiène").click()
    plus(page, "Kit base").click()
    plus(page, "Kit base").click()
    plus(page, "Embout").click()
    expect(page.get_by_label("Kit base", exact=True)).to_have_value("2")
    expect(page.get_by_label("Embout", exact=True)).to_have_value("1")
    screenshot(page, "03-contact-form-top", full_page=False)
    page.get_by_text("Orientations", exact=True).click()
    first_referral = page.get_by_role("group", name="Orientation 1")
    first_referral.get_by_label("Destination").select_option(label="115 / SIAO")
    chip(page, "Orientation 1", "Accompagnée").click()
    expect(first_referral.get_by_role("checkbox", name="Accompagnée")).to_be_checked()
    expect(page.get_by_role("group", name="Orientation 2")).to_be_hidden()
    save_button(page).scroll_into_view_if_needed()
    screenshot(page, "04-contact-form-scrolled", full_page=False)
    screenshot(page, "05-contact-form-full")
    save_button(page).click()

    expect(flash(page, "Contact enregistré.")).to_be_visible()
    expect(page.get_by_test_id("contact-count")).to_have_text("1")
    latest = page.get_by_role("listitem").filter(has_text="Alimentation, Hygiène")
    expect(latest).to_contain_text("Femme")
    expect(latest).to_contain_text("→ 115 / SIAO")
    screenshot(page, "06-patrol-with-contact")

    # Follow-up: the same person, typed differently, finds the same history.
    page.get_by_role("link", name="Suivi").click()
    page.get_by_label("Code de la personne").fill("eli-1990")
    page.get_by_role("button", name="Rechercher").click()
    expect(page.get_by_role("heading", name="Historique de la personne")).to_be_visible()
    history = page.get_by_role("listitem").filter(has_text="115 / SIAO")
    expect(history).to_have_count(1)
    expect(history).to_contain_text("Stalingrad")
    expect(history).to_contain_text("Besoins : Alimentation, Hygiène")
    expect(history).to_contain_text("accompagnée")
    expect(history.get_by_text("Proposée", exact=True)).to_be_visible()
    screenshot(page, "07-followup-history")

    for label, then_offered in (("Acceptée", True), ("Honorée", False)):
        history.get_by_label("Nouveau statut").select_option(label=label)
        history.get_by_role("button", name="Mettre à jour").click()
        expect(flash(page, f"Orientation mise à jour : {label}.")).to_be_visible()
        expect(history.get_by_text(label, exact=True)).to_be_visible()
        expect(history.get_by_label("Nouveau statut")).to_have_count(1 if then_offered else 0)
    screenshot(page, "08-followup-attended")

    # End of patrol: a report about the site, never about a person.
    page.get_by_role("link", name="Tournées").click()
    page.get_by_role("link", name="Voir la tournée").click()
    page.get_by_role("link", name="Terminer la tournée").click()
    expect(page.get_by_role("heading", name="Terminer la tournée")).to_be_visible()
    expect(page.get_by_text("Stalingrad · 1 contact", exact=True)).to_be_visible()
    page.get_by_label("Personnes vues mais non rencontrées").fill("3")
    chip(page, "Ambiance sur le site", "Calme").click()
    page.get_by_label("Matériel usagé ramassé (nombre d'objets)").fill("12")
    page.get_by_label("Observations sur le site").fill("Peu de passage, site propre.")
    screenshot(page, "09-end-patrol")
    page.get_by_role("button", name="Terminer la tournée").click()

    expect(flash(page, "Tournée terminée. Merci !")).to_be_visible()
    assert page.url == f"{live_server}/patrols"
    expect(page.get_by_role("link", name="Commencer une tournée")).to_be_visible()
    screenshot(page, "10-patrols-home-after-end")

    # What was stored.
    contacts = contacts_in_db(app)
    assert len(contacts) == 1, contacts
    contact = contacts[0]
    assert contact.gender == "female"
    assert [n.need_code for n in contact.needs] == ["food", "hygiene"]
    assert {m.material_code: m.quantity for m in contact.materials} == {
        "kit_base": 2,
        "mouthpiece": 1,
    }
    assert [(r.destination_code, r.accompanied) for r in contact.referrals] == [
        ("shelter_115", True)
    ]
    assert contact.pseudonym_association and len(contact.pseudonym_association) == 64
    with app.app_context():
        referral = db.session.scalars(select(Referral)).one()
        assert referral.status == "attended"
        steps = db.session.scalars(
            select(ReferralStatusChange.status).order_by(ReferralStatusChange.id)
        ).all()
        assert steps == ["accepted", "attended"]
        patrol = db.session.scalars(select(Patrol)).one()
        assert patrol.ended_at is not None
        assert (
            patrol.people_seen_not_met,
            patrol.atmosphere,
            patrol.used_material_collected,
            patrol.site_observations,
        ) == (3, "calm", 12, "Peu de passage, site propre.")
        # Pseudonyms only: the code, as typed or normalised, is in no column.
        rows = db.session.execute(select(Contact.__table__)).mappings().all()
    for row in rows:
        for column, value in row.items():
            text = str(value).casefold()
            for needle in ("éli", "eli1990", "eli 1990", "eli-1990"):
                assert needle not in text, f"contacts.{column} holds the person code: {value!r}"


def test_typical_contact_takes_at_most_eight_taps(
    page: Page, live_server: str, world: World, app: Flask
) -> None:
    log_in(page, live_server, world.users["worker"].email)
    start_patrol(page)
    open_contact_form(page)

    tap = Taps()
    tap(chip(page, "Besoins exprimés", "Alimentation"))
    tap(plus(page, "Kit base"))
    tap(plus(page, "Filtre / grille"))
    tap(save_button(page))
    expect(flash(page, "Contact enregistré.")).to_be_visible()
    expect(page.get_by_test_id("contact-count")).to_have_text("1")

    print(f"\ntaps for a typical contact (one need, two materials, save): {tap.count}")
    assert tap.count <= MAX_TAPS_FOR_A_TYPICAL_CONTACT, (
        f"a typical contact took {tap.count} taps (> {MAX_TAPS_FOR_A_TYPICAL_CONTACT})"
    )
    contacts = contacts_in_db(app)
    assert len(contacts) == 1, f"{len(contacts)} contacts after {tap.count} taps"
    contact = contacts[0]
    assert [n.need_code for n in contact.needs] == ["food"], f"taps: {tap.count}"
    assert {m.material_code: m.quantity for m in contact.materials} == {
        "kit_base": 1,
        "filter": 1,
    }, f"taps: {tap.count}"
    assert contact.referrals == [], f"taps: {tap.count}"
    assert contact.pseudonym_association is None  # no code typed: no pseudonym


def test_double_tap_on_save_stores_one_contact(
    page: Page, live_server: str, world: World, app: Flask
) -> None:
    log_in(page, live_server, world.users["worker"].email)
    start_patrol(page)
    open_contact_form(page)
    chip(page, "Besoins exprimés", "Repos").click()

    save_button(page).dblclick()

    expect(page.get_by_test_id("contact-count")).to_have_text("1")
    expect(
        flash(page, "Contact enregistré.").or_(flash(page, "Ce contact était déjà enregistré"))
    ).to_be_visible()
    assert contact_rows(app) == 1


def test_concurrent_resubmission_stores_one_contact(
    page: Page, live_server: str, world: World, app: Flask, request_log: RequestLog
) -> None:
    """The same filled form sent three times (two at once, then once more): one row."""
    log_in(page, live_server, world.users["worker"].email)
    start_patrol(page)
    open_contact_form(page)
    page.get_by_label("Code de la personne (facultatif)").fill("ABC 1985")
    chip(page, "Besoins exprimés", "Alimentation").click()
    plus(page, "Kit base").click()

    statuses = page.evaluate(
        """async () => {
            const form = document.querySelector("form.contact-form");
            const send = () => fetch(form.action, {method: "POST", body: new FormData(form)});
            const responses = await Promise.all([send(), send()]);
            return responses.map((r) => r.status);
        }"""
    )
    assert statuses == [200, 200], f"both submissions end on the patrol page: {statuses}"
    save_button(page).click()  # and the worker taps save once more on the same form

    expect(flash(page, "Ce contact était déjà enregistré : rien n'a été ajouté.")).to_be_visible()
    expect(page.get_by_test_id("contact-count")).to_have_text("1")
    posts = request_log.posts_to("/contacts/new")
    assert posts == 3, f"the server should have received 3 submissions, got {posts}"
    contacts = contacts_in_db(app)
    assert len(contacts) == 1, f"{len(contacts)} contact rows after {posts} submissions"
    assert {m.material_code: m.quantity for m in contacts[0].materials} == {"kit_base": 1}


TAP_TARGETS_JS = """(elements) => elements
    .filter((el) => {
        const style = getComputedStyle(el);
        const box = el.getBoundingClientRect();
        return box.width > 0 && box.height > 0 && style.visibility !== "hidden";
    })
    .map((el) => {
        const box = el.getBoundingClientRect();
        const name = (el.getAttribute("aria-label") || el.textContent || el.name || el.id || "")
            .trim().replace(/\\s+/g, " ").slice(0, 40);
        const kind = el.tagName.toLowerCase() + (el.type ? `[${el.type}]` : "");
        return {what: `${kind} "${name}"`, height: Math.round(box.height * 10) / 10};
    })"""


@pytest.mark.parametrize(
    "viewport",
    [pytest.param({"width": 320, "height": 640}, id="320x640"), pytest.param(None, id=DEVICE)],
)
def test_contact_form_fits_a_small_phone(
    browser: Browser,
    playwright: Playwright,
    live_server: str,
    world: World,
    viewport: dict[str, int] | None,
) -> None:
    overrides = {"viewport": viewport} if viewport else {}
    context = open_context(browser, playwright, **overrides)
    try:
        page = context.new_page()
        log_in(page, live_server, world.users["worker"].email)
        start_patrol(page)
        open_contact_form(page)
        width = page.evaluate("window.innerWidth")
        assert width == (viewport or playwright.devices[DEVICE]["viewport"])["width"]

        def assert_no_horizontal_scroll(when: str) -> None:
            scroll_width = page.evaluate("document.documentElement.scrollWidth")
            assert scroll_width <= width, (
                f"{when}: the page scrolls sideways ({scroll_width}px wide in {width}px)"
            )

        assert_no_horizontal_scroll("form as opened")
        # Every part of the form, folded or not, must fit: unfold all of it.
        for summary in page.locator("details:not([open]) > summary").all():
            summary.click()
        page.get_by_role("button", name="+ Ajouter une orientation").click()
        expect(page.get_by_role("group", name="Orientation 2")).to_be_visible()
        assert_no_horizontal_scroll("every section unfolded")
        name = f"11-contact-form-unfolded-{width}px"
        screenshot(page, name)

        targets = page.locator("button, label.chip > span, input, select").evaluate_all(
            TAP_TARGETS_JS
        )
        assert len(targets) > 50, f"too few tap targets found: {targets}"
        small = [t for t in targets if t["height"] < MIN_TAP_TARGET_PX]
        assert not small, (
            f"{len(small)} tap targets under {MIN_TAP_TARGET_PX}px high at {width}px: "
            + "; ".join(f"{t['what']} {t['height']}px" for t in small)
        )
    finally:
        context.close()
