"""Offline-first capture in Chromium (Pixel 5): nothing lost, nothing stored twice.

The phone loses the network, the server answers 500, the answer is lost after the
server saved, the session expires while offline: in each case every contact logged
reaches the database exactly once.
"""

from __future__ import annotations

import json

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, Playwright, Route, expect
from sqlalchemy import func, select

from outreach.extensions import db
from outreach.models import Contact
from tests.browser_support import (
    contact_rows,
    go_online,
    log_contact,
    log_in,
    open_contact_form,
    open_context,
    open_offline_form,
    outbox,
    screenshot,
    start_patrol,
    wait_until_sent,
)
from tests.conftest import PASSWORD, World

pytestmark = pytest.mark.browser


def distinct_client_ids(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(func.distinct(Contact.client_id)))) or 0


def test_five_contacts_offline_survive_a_reload_and_arrive_once(
    page: Page, live_server: str, world: World, app: Flask
) -> None:
    open_offline_form(page, live_server, world)

    page.context.set_offline(True)
    for index in range(5):
        log_contact(page, "Femme" if index % 2 else "Homme")
    expect(page.get_by_test_id("outbox-count")).to_contain_text("5 contact(s) en attente")
    assert contact_rows(app) == 0

    page.reload()  # still offline: the service worker serves the form's shell
    expect(page.get_by_role("heading", name="Nouveau contact")).to_be_visible()
    expect(page.get_by_test_id("outbox-count")).to_contain_text("5 contact(s) en attente")
    screenshot(page, "20-offline-five-waiting", full_page=False)
    assert outbox(page)["pending"] == 5

    go_online(page)
    wait_until_sent(page)
    expect(page.get_by_test_id("outbox-count")).to_have_count(0)
    assert contact_rows(app) == 5
    assert distinct_client_ids(app) == 5


def test_reloading_the_cached_form_between_saves_loses_no_contact(
    page: Page, live_server: str, world: World, app: Flask
) -> None:
    open_offline_form(page, live_server, world)

    page.context.set_offline(True)
    for index in range(5):
        log_contact(page, "Femme" if index % 2 else "Homme")
        if index in (1, 3):
            page.reload()  # the service worker serves the same cached HTML again
            expect(page.get_by_role("heading", name="Nouveau contact")).to_be_visible()
    expect(page.get_by_test_id("outbox-count")).to_contain_text("5 contact(s) en attente")
    assert outbox(page)["pending"] == 5

    go_online(page)
    wait_until_sent(page)
    assert contact_rows(app) == 5
    assert distinct_client_ids(app) == 5


def test_going_to_patrols_and_back_offline_between_saves_loses_no_contact(
    page: Page, live_server: str, world: World, app: Flask
) -> None:
    open_offline_form(page, live_server, world)

    page.context.set_offline(True)
    for gender in ("Femme", "Homme", "Autre"):
        log_contact(page, gender)
        page.get_by_role("link", name="Tournées").click()
        page.get_by_role("link", name="Revenir à la saisie").click()
        expect(page.get_by_role("heading", name="Nouveau contact")).to_be_visible()
    expect(page.get_by_test_id("outbox-count")).to_contain_text("3 contact(s) en attente")

    go_online(page)
    wait_until_sent(page)
    assert contact_rows(app) == 3
    assert distinct_client_ids(app) == 3


FAST_CLOCK_JS = """(() => {
    const shift = 15 * 60 * 1000;
    const RealDate = Date;
    class FastDate extends RealDate {
        constructor(...args) {
            if (args.length) super(...args);
            else super(RealDate.now() + shift);
        }
        static now() { return RealDate.now() + shift; }
    }
    globalThis.Date = FastDate;
})();"""


def test_a_phone_clock_fifteen_minutes_fast_loses_no_contact(
    browser: Browser, playwright: Playwright, live_server: str, world: World, app: Flask
) -> None:
    # The init script shifts the pages' clock, not the service worker's: blocked here, so
    # that only the page learns the offset (on a phone both read the same clock).
    context = open_context(browser, playwright, service_workers="block")
    context.add_init_script(FAST_CLOCK_JS)
    try:
        page = context.new_page()
        log_in(page, live_server, world.users["worker"].email)
        start_patrol(page)
        open_contact_form(page)
        page.wait_for_function(
            """async () => {
                const request = indexedDB.open("maraudes-outbox");
                const db = await new Promise((resolve) => {
                    request.onsuccess = () => resolve(request.result);
                });
                const tx = db.transaction("meta", "readonly");
                const get = tx.objectStore("meta").get("clockOffset");
                const value = await new Promise((resolve) => {
                    get.onsuccess = () => resolve(get.result);
                });
                db.close();
                return value !== undefined;
            }"""
        )
        log_contact(page)
        log_contact(page, "Homme")
        wait_until_sent(page)
        assert contact_rows(app) == 2
    finally:
        context.close()


def test_a_lost_answer_and_a_server_error_are_retried_and_stored_once(
    routable_page: Page, live_server: str, world: World, app: Flask
) -> None:
    page = routable_page
    log_in(page, live_server, world.users["worker"].email)
    start_patrol(page)
    open_contact_form(page)
    answers: list[list[str]] = []

    def flaky_network(route: Route) -> None:
        attempt = len(answers)
        if attempt == 0:  # the server crashes before saving anything
            answers.append(["500"])
            route.fulfill(status=500, body="boom")
            return
        response = route.fetch()  # the server saves...
        answers.append([r["status"] for r in json.loads(response.text())["results"]])
        if attempt == 1:
            route.abort("connectionreset")  # ...but the phone never hears it
        else:
            route.fulfill(response=response)

    page.route("**/api/v1/contacts", flaky_network)
    log_contact(page)
    page.wait_for_timeout(300)
    assert outbox(page)["pending"] == 1, "a 500 keeps the contact on the phone"
    assert contact_rows(app) == 0

    page.get_by_role("button", name="Envoyer maintenant").click()
    page.wait_for_timeout(300)
    assert outbox(page)["pending"] == 1, "an answer that never came keeps it too"
    assert contact_rows(app) == 1, "the server did save it"

    page.get_by_role("button", name="Envoyer maintenant").click()
    wait_until_sent(page)
    assert answers == [["500"], ["created"], ["unchanged"]]
    assert contact_rows(app) == 1


def test_the_outbox_retries_only_what_may_succeed_later_and_honours_retry_after(
    routable_page: Page, live_server: str, world: World, app: Flask
) -> None:
    page = routable_page
    log_in(page, live_server, world.users["worker"].email)
    start_patrol(page)
    open_contact_form(page)
    answers = iter(
        [
            (429, {}),
            (503, {"Retry-After": "3600"}),
        ]
    )
    posts: list[int] = []

    def server(route: Route) -> None:
        status, headers = next(answers, (413, {}))
        posts.append(status)
        route.fulfill(status=status, headers=headers, body="{}")

    page.route("**/api/v1/contacts", server)
    log_contact(page)
    page.wait_for_timeout(300)
    assert posts == [429]
    assert outbox(page)["pending"] == 1, "a 429 keeps the contact queued"

    page.get_by_role("button", name="Envoyer maintenant").click()
    page.wait_for_timeout(300)
    assert posts == [429, 503]
    page.get_by_role("button", name="Envoyer maintenant").click()
    page.wait_for_timeout(300)
    assert posts == [429, 503], "nothing is sent before Retry-After has passed"
    assert outbox(page)["pending"] == 1

    page.evaluate(
        """() => new Promise((resolve) => {
            const request = indexedDB.open("maraudes-outbox");
            request.onsuccess = () => {
                const tx = request.result.transaction("meta", "readwrite");
                tx.objectStore("meta").delete("retryAt");
                tx.oncomplete = () => resolve();
            };
        })"""
    )
    page.get_by_role("button", name="Envoyer maintenant").click()
    page.wait_for_timeout(300)
    assert posts == [429, 503, 413]
    assert outbox(page)["pending"] == 0, "a 4xx other than 408/429 is not sent again"
    assert len(outbox(page)["failed"]) == 1
    assert contact_rows(app) == 0


def test_session_expired_while_offline_then_log_in_and_everything_syncs(
    page: Page, live_server: str, world: World, app: Flask
) -> None:
    open_offline_form(page, live_server, world)
    form_url = page.url

    page.context.set_offline(True)
    page.context.clear_cookies()  # the session ends while the phone is offline
    log_contact(page)
    log_contact(page, "Homme")
    go_online(page)

    login_link = page.get_by_role("link", name="Session expirée : reconnectez-vous pour envoyer")
    expect(login_link).to_be_visible()
    assert outbox(page)["pending"] == 2, "a 401 keeps the queue"
    screenshot(page, "21-session-expired", full_page=False)
    login_link.click()

    page.get_by_label("Adresse e-mail").fill(world.users["worker"].email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(form_url)
    wait_until_sent(page)
    assert contact_rows(app) == 2


def test_logging_out_warns_when_contacts_still_wait(
    routable_page: Page, live_server: str, world: World, app: Flask
) -> None:
    page = routable_page
    log_in(page, live_server, world.users["worker"].email)
    start_patrol(page)
    open_contact_form(page)
    page.route("**/api/v1/contacts", lambda route: route.fulfill(status=503, body="down"))
    log_contact(page)

    messages: list[str] = []

    def answer(dialog: object, accept: bool) -> None:
        messages.append(dialog.message)  # type: ignore[attr-defined]
        dialog.accept() if accept else dialog.dismiss()  # type: ignore[attr-defined]

    page.once("dialog", lambda dialog: answer(dialog, accept=False))
    page.get_by_role("button", name="Déconnexion").click()
    page.wait_for_timeout(300)
    assert messages and "1 contact(s) attendent encore" in messages[0]
    expect(page.get_by_role("heading", name="Nouveau contact")).to_be_visible()

    page.once("dialog", lambda dialog: answer(dialog, accept=True))
    page.get_by_role("button", name="Déconnexion").click()
    expect(page.get_by_role("heading", name="Connexion")).to_be_visible()
    # The heading shows before the deferred scripts run on a busy machine: read the outbox
    # once its script is there, not an absent outbox.
    page.wait_for_function("() => Boolean(self.OutboxCore)")
    assert outbox(page)["pending"] == 1, "logging out keeps what waits on the phone"
    assert contact_rows(app) == 0
