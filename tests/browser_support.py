"""Shared fixtures and helpers for the browser tests: Chromium on a phone, a live server.

Import the fixtures you use into the test module (pytest finds fixtures by module
namespace). Chromium is Debian's /usr/bin/chromium; without it the tests skip with a
reason, except under CI=true where they fail.
"""

from __future__ import annotations

import os
import threading
import time
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

from outreach.auth.totp import requires_totp
from outreach.extensions import db
from outreach.models import Contact
from tests.conftest import ARTIFACTS, PASSWORD, World, enrol_totp, totp_code_for

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


# The new-contact form saves in one of two ways: without JavaScript (or before outbox.js has
# taken the form over) it posts and lands on the patrol page, which says "Contact
# enregistré." from its address (?saved=); with it, the contact waits in the phone's
# outbox (IndexedDB), the form is reset for the next person, and the note "Contact
# enregistré sur le téléphone…" shows while the outbox sends it to /api/v1/contacts. The
# tests accept both ways and check the outcome where it counts: in the database and on the
# patrol page.
OUTBOX_JS = """async () => {
    if (!self.OutboxCore) return {pending: 0, failed: []};
    const entries = await self.OutboxCore.entries();
    return {
        pending: entries.filter((entry) => entry.state === "pending").length,
        failed: entries.filter((entry) => entry.state !== "pending"),
    };
}"""


def saved_note(page: Page) -> Locator:
    return flash(page, "Contact enregistré")


def wait_until_sent(page: Page, timeout_s: float = TIMEOUT_MS / 1000) -> None:
    """Once the contact is confirmed on screen, wait until no contact waits on the phone.

    A loop over `page.evaluate` (which awaits the promise), not `wait_for_function`
    (which would take the pending promise itself for a truthy answer).
    """
    deadline = time.monotonic() + timeout_s
    outbox = page.evaluate(OUTBOX_JS)
    while outbox["pending"]:
        assert time.monotonic() < deadline, f"contacts still wait on the phone: {outbox}"
        page.wait_for_timeout(100)
        outbox = page.evaluate(OUTBOX_JS)
    assert not outbox["failed"], f"the server refused contacts of the outbox: {outbox['failed']}"


def go_to_open_patrol(page: Page) -> None:
    page.get_by_role("link", name="Tournées").click()
    page.get_by_role("link", name="Voir la tournée").click()
    expect(page.get_by_text("en cours", exact=True)).to_be_visible()


def submissions(log: RequestLog) -> int:
    """Contacts sent to the server, by the HTML form or by the outbox."""
    return log.posts_to("/contacts/new") + log.posts_to("/api/v1/contacts")


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


def log_in_as(page: Page, base_url: str, app: Flask, world: World, key: str) -> None:
    """Log in as any role of `world`: supervisors, funders and admins (and workers who
    enrolled) type their second factor's code, enrolled through the service beforehand as
    conftest's `AuthActions.login_as` does."""
    user = world.users[key]
    if requires_totp(user):
        enrol_totp(app, user.id)
    page.goto(f"{base_url}/login")
    page.get_by_label("Adresse e-mail").fill(user.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    if page.url.endswith("/login/code"):
        expect(page.get_by_role("heading", name="Second facteur")).to_be_visible()
        page.get_by_label("Code de l'application ou code de secours").fill(
            totp_code_for(app, user.id)
        )
        page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("link", name="Mon compte")).to_be_visible()


# --------------------------------------------------------------------------- offline


SHELL_CACHED_JS = """async () => {
    const keys = await caches.keys();
    for (const key of keys) {
        if (await (await caches.open(key)).match(location.pathname)) return true;
    }
    return false;
}"""


def ready_for_offline(page: Page) -> None:
    """The service worker controls the page and keeps the form's shell."""
    page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller")
    for _ in range(100):
        if page.evaluate(SHELL_CACHED_JS):
            return
        page.wait_for_timeout(100)
    raise AssertionError("the service worker did not cache the new-contact form")


def open_offline_form(page: Page, live_server: str, world: World) -> None:
    """The worker logged in, on a new patrol's contact form, kept by the service worker."""
    log_in(page, live_server, world.users["worker"].email)
    start_patrol(page)
    open_contact_form(page)
    ready_for_offline(page)


def outbox(page: Page) -> dict:
    return page.evaluate(OUTBOX_JS)


def log_contact(page: Page, gender: str = "Femme") -> None:
    chip(page, "Genre", gender).click()
    plus(page, "Kit base").click()
    save_button(page).click()
    expect(saved_note(page)).to_be_visible()
    expect(save_button(page)).to_be_enabled()


@pytest.fixture
def routable_page(browser: Browser, playwright: Playwright) -> Iterator[Page]:
    """A phone whose requests Playwright can intercept: Chromium routes nothing that a
    service worker fetches, so this one runs without it (the outbox does the retrying)."""
    context = open_context(browser, playwright, service_workers="block")
    try:
        yield context.new_page()
    finally:
        context.close()


def go_online(page: Page) -> None:
    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
