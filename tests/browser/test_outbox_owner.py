"""The outbox belongs to its author and says what waits (Chromium, Pixel 5).

Each test counts rows in the database: contacts logged offline against contacts arrived.
"""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from tests.browser_support import (
    contact_rows,
    contacts_in_db,
    go_online,
    log_contact,
    log_in,
    open_contact_form,
    open_offline_form,
    screenshot,
    start_patrol,
    wait_until_sent,
)
from tests.conftest import World

pytestmark = pytest.mark.browser


def test_another_account_on_the_same_phone_neither_sends_nor_sees_the_queue(
    routable_page: Page,
    live_server: str,
    world: World,
    app: Flask,
) -> None:
    page = routable_page
    log_in(page, live_server, world.users["worker"].email)
    start_patrol(page)
    open_contact_form(page)
    page.route("**/api/v1/contacts", lambda route: route.fulfill(status=503, body="down"))
    log_contact(page)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Déconnexion").click()
    expect(page.get_by_role("heading", name="Connexion")).to_be_visible()
    page.unroute("**/api/v1/contacts")

    log_in(page, live_server, world.users["other_worker"].email)
    expect(page.get_by_test_id("outbox-others")).to_contain_text("1 contact(s)")
    page.wait_for_timeout(1500)  # the page syncs on load: it must send nothing
    assert contact_rows(app) == 0, "another account's contact was sent under this login"
    page.get_by_role("button", name="Déconnexion").click()
    expect(page.get_by_role("heading", name="Connexion")).to_be_visible()

    log_in(page, live_server, world.users["worker"].email)
    wait_until_sent(page)
    stored = contacts_in_db(app)
    assert [contact.association_id for contact in stored] == [world.demo.id]


def test_send_now_offline_says_the_network_is_missing_and_how_many_wait(
    page: Page, live_server: str, world: World, app: Flask
) -> None:
    open_offline_form(page, live_server, world)
    page.context.set_offline(True)
    log_contact(page)
    log_contact(page, "Femme")
    page.get_by_role("button", name="Envoyer maintenant").click()
    expect(page.get_by_test_id("outbox-offline")).to_have_text(
        "Pas de réseau : 2 contact(s) attendent sur le téléphone. "
        "Ils partiront dès que le réseau revient."
    )
    screenshot(page, "outbox-offline-notice", full_page=False)
    go_online(page)
    wait_until_sent(page)
    expect(page.get_by_test_id("outbox-offline")).to_have_count(0)
    assert contact_rows(app) == 2
