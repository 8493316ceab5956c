"""The outbox keeps what the street typed: refused contacts are corrected, not lost;
the phone checks what it can before queueing; a queued person code is not readable
from the browser's storage; a closed page loses nothing.

Each test counts the rows that reached the database.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, Route, expect
from sqlalchemy import select, update

from outreach.extensions import db
from outreach.models import Zone
from tests.browser_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DEVICE,
    TIMEOUT_MS,
    chip,
    contact_rows,
    contacts_in_db,
    go_online,
    log_contact,
    log_in,
    open_contact_form,
    open_offline_form,
    outbox,
    plus,
    save_button,
    saved_note,
    screenshot,
    start_patrol,
    wait_until_sent,
)
from tests.conftest import World

pytestmark = pytest.mark.browser

PERSON_CODE = "ZEBULON 1977"
# The outbox's records as a copy of the browser's storage holds them.
RAW_ENTRIES_JS = """() => new Promise((resolve) => {
    const request = indexedDB.open("maraudes-outbox");
    request.onsuccess = () => {
        const read = request.result.transaction("entries").objectStore("entries").getAll();
        read.onsuccess = () => resolve(read.result.map((entry) => ({
            keys: Object.keys(entry).sort(),
            text: JSON.stringify(entry),
        })));
    };
})"""


def set_zone_active(app: Flask, code: str, active: bool) -> None:
    with app.app_context():
        db.session.execute(update(Zone).where(Zone.code == code).values(active=active))
        db.session.commit()


def zone_code_of(app: Flask, zone_id: int) -> str:
    with app.app_context():
        return db.session.scalar(select(Zone.code).where(Zone.id == zone_id)) or ""


def wait_for_refusal(page: Page) -> None:
    for _ in range(100):
        if outbox(page)["failed"]:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"the server did not refuse the contact: {outbox(page)}")


def test_a_refused_contact_is_corrected_in_the_form_and_arrives_once(
    page: Page, live_server: str, world: World, app: Flask
) -> None:
    open_offline_form(page, live_server, world)
    page.context.set_offline(True)
    chip(page, "Genre", "Homme").click()
    chip(page, "Besoins exprimés", "Alimentation").click()
    plus(page, "Kit base").click()
    plus(page, "Kit base").click()
    page.get_by_label("Code de la personne (facultatif)").fill(PERSON_CODE)
    save_button(page).click()
    expect(saved_note(page)).to_be_visible()

    # While the phone was offline, an admin retired the patrol's zone.
    set_zone_active(app, "stalingrad", False)
    go_online(page)
    wait_for_refusal(page)
    refused = page.get_by_test_id("outbox-refused")
    expect(refused).to_contain_text("Zone : Cette zone n'est plus active")
    assert not re.search(r"\bzone :", refused.inner_text()), "a field's code shown to the worker"
    stored = json.dumps(page.evaluate(RAW_ENTRIES_JS))
    assert "Cette zone" not in stored and "zone" not in stored, "the server's answer is sealed"
    assert contact_rows(app) == 0

    refused.get_by_role("button", name="Corriger").click()
    zone = page.get_by_label("Zone", exact=True)
    expect(zone).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#error-zone")).to_contain_text("Cette zone n'est plus active")
    # The values typed on the street are back in the form; the code is kept, not shown.
    expect(page.get_by_role("radio", name="Homme")).to_be_checked()
    expect(page.get_by_role("checkbox", name="Alimentation")).to_be_checked()
    expect(page.get_by_label("Kit base", exact=True)).to_have_value("2")
    expect(page.get_by_label("Code de la personne (facultatif)")).to_have_value("")
    expect(page.get_by_test_id("form-errors")).to_contain_text("Le code de la personne est gardé")
    screenshot(page, "40-outbox-correction", full_page=False)

    zone.select_option(label="Jardins d'Éole")
    save_button(page).click()
    expect(saved_note(page)).to_be_visible()
    wait_until_sent(page)
    expect(page.get_by_test_id("outbox-refused")).to_have_count(0)

    contacts = contacts_in_db(app)
    assert len(contacts) == 1, "one contact logged, one arrived"
    contact = contacts[0]
    assert zone_code_of(app, contact.zone_id) == "jardins_eole"
    assert contact.gender == "male"
    assert contact.pseudonym_association, "the person's code survived the correction"
    assert {(m.material_code, m.quantity) for m in contact.materials} == {("kit_base", 2)}
    assert [n.need_code for n in contact.needs] == ["food"]


def test_deleting_a_refused_contact_asks_first(
    page: Page, live_server: str, world: World, app: Flask
) -> None:
    open_offline_form(page, live_server, world)
    page.context.set_offline(True)
    log_contact(page)
    set_zone_active(app, "stalingrad", False)
    go_online(page)
    wait_for_refusal(page)

    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_test_id("outbox-refused").get_by_role("button", name="Supprimer").click()
    page.wait_for_timeout(300)
    assert len(outbox(page)["failed"]) == 1, "dismissing the question deletes nothing"

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("outbox-refused").get_by_role("button", name="Supprimer").click()
    expect(page.get_by_test_id("outbox-refused")).to_have_count(0)
    assert outbox(page) == {"pending": 0, "failed": []}
    assert contact_rows(app) == 0


def test_the_phone_checks_before_queueing_with_the_servers_messages(
    page: Page, live_server: str, world: World, app: Flask
) -> None:
    open_offline_form(page, live_server, world)
    page.context.set_offline(True)
    page.get_by_label("Kit base", exact=True).fill("1000")
    page.locator("details.where-when summary").click()
    page.get_by_label("Date et heure").fill("2099-01-01T10:00")
    save_button(page).click()

    expect(page.locator("#error-occurred_at")).to_have_text("Ce moment est dans le futur.")
    expect(page.locator("#error-materials-kit_base")).to_have_text("Entre 0 et 999.")
    expect(page.get_by_label("Kit base", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(saved_note(page)).to_have_count(0)
    assert outbox(page) == {"pending": 0, "failed": []}, "nothing queued"
    screenshot(page, "41-outbox-phone-checks", full_page=False)

    page.get_by_label("Kit base", exact=True).fill("10")
    page.get_by_label("Date et heure").fill("")
    page.get_by_label("Date et heure").fill(_paris_minutes_ago(page, 5))
    save_button(page).click()
    expect(saved_note(page)).to_be_visible()
    assert outbox(page)["pending"] == 1
    go_online(page)
    wait_until_sent(page)
    contacts = contacts_in_db(app)
    assert len(contacts) == 1
    assert {(m.material_code, m.quantity) for m in contacts[0].materials} == {("kit_base", 10)}


def _paris_minutes_ago(page: Page, minutes: int) -> str:
    return str(
        page.evaluate(
            """(minutes) => {
                const parts = Object.fromEntries(new Intl.DateTimeFormat("en-GB", {
                    timeZone: "Europe/Paris", year: "numeric", month: "2-digit", day: "2-digit",
                    hour: "2-digit", minute: "2-digit", hourCycle: "h23",
                }).formatToParts(new Date(Date.now() - minutes * 60000))
                  .map((p) => [p.type, p.value]));
                return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
            }""",
            minutes,
        )
    )


def test_contacts_queued_when_the_page_closes_arrive_from_the_next_page(
    page: Page, live_server: str, world: World, app: Flask
) -> None:
    open_offline_form(page, live_server, world)
    page.context.set_offline(True)
    log_contact(page, "Femme")
    log_contact(page, "Homme")
    assert outbox(page)["pending"] == 2
    context = page.context
    page.close()

    context.set_offline(False)
    later = context.new_page()
    later.goto(f"{live_server}/")
    expect(later.get_by_role("link", name="Suivi")).to_be_visible()
    later.wait_for_function("() => Boolean(self.OutboxCore)")
    wait_until_sent(later)
    assert contact_rows(app) == 2


@pytest.fixture
def profile_context(
    browser: Browser, playwright: Playwright, tmp_path: Path
) -> Iterator[tuple[BrowserContext, Path]]:
    """A phone whose browser profile is on disk, to read what its storage holds."""
    profile = tmp_path / "profile"
    phone = {k: v for k, v in playwright.devices[DEVICE].items() if k != "default_browser_type"}
    context = playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=str(CHROMIUM),
        args=CHROMIUM_ARGS,
        **phone,
        locale="fr-FR",
        timezone_id="Europe/Paris",
    )
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context, profile
    finally:
        context.close()


def profile_holds(profile: Path, needles: list[bytes]) -> list[str]:
    found = []
    for path in profile.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            found += [f"{path.relative_to(profile)}: {n!r}" for n in needles if n in content]
    return found


def test_a_queued_person_code_is_not_readable_from_the_phones_storage(
    profile_context: tuple[BrowserContext, Path], live_server: str, world: World, app: Flask
) -> None:
    context, profile = profile_context
    page = context.pages[0] if context.pages else context.new_page()
    open_offline_form(page, live_server, world)
    context.set_offline(True)
    page.get_by_label("Code de la personne (facultatif)").fill(PERSON_CODE)
    log_contact(page)
    assert outbox(page)["pending"] == 1

    stored = page.evaluate(RAW_ENTRIES_JS)
    assert len(stored) == 1
    assert "body" not in stored[0]["keys"] and "sealed" in stored[0]["keys"]
    assert "ZEBULON" not in stored[0]["text"] and "1977" not in stored[0]["text"]
    # Whoever holds a copy of the storage, keys included, opens the entry as the outbox
    # does: the code inside is still sealed for the server.
    opened = page.evaluate(
        "async () => (await self.OutboxCore.bodyOf((await self.OutboxCore.entries())[0]))"
    )
    assert opened["person_code"].startswith("sealed:v1:")
    assert "ZEBULON" not in json.dumps(opened).upper()

    # What a copy of the browser's profile on disk holds, once written out.
    page.close()
    later = context.new_page()
    later.goto("about:blank")
    later.wait_for_timeout(1500)
    needles = [
        code.encode(encoding)
        for code in ("ZEBULON", "zebulon", "Zebulon")
        for encoding in ("latin-1", "utf-16-le")
    ]
    assert not profile_holds(profile, needles), "the person code is readable on disk"

    context.set_offline(False)
    later.goto(f"{live_server}/")
    later.wait_for_function("() => Boolean(self.OutboxCore)")
    wait_until_sent(later)
    contacts = contacts_in_db(app)
    assert len(contacts) == 1 and contacts[0].pseudonym_association


def test_a_correction_made_during_another_tabs_sync_stores_the_contact_once(
    routable_page: Page,
    live_server: str,
    world: World,
    app: Flask,
) -> None:
    """Tab B's sync of an entry answers after tab A corrected it: the answer must not bring
    the refused entry back (a second correction would store the contact twice)."""
    first = routable_page
    context = first.context
    log_in(first, live_server, world.users["worker"].email)
    start_patrol(first)
    open_contact_form(first)
    second = context.new_page()
    second.goto(first.url)
    expect(second.get_by_role("heading", name="Nouveau contact")).to_be_visible()
    held: list[Route] = []
    second.route("**/api/v1/contacts", lambda route: held.append(route))

    context.set_offline(True)
    chip(first, "Genre", "Homme").click()
    first.get_by_label("Code de la personne (facultatif)").fill("1977")  # refused: no letter
    save_button(first).click()
    expect(saved_note(first)).to_be_visible()
    context.set_offline(False)
    second.evaluate("window.dispatchEvent(new Event('online'))")
    for _ in range(50):
        if held:
            break
        second.wait_for_timeout(100)
    assert held, "tab B's sync did not start"
    first.evaluate("window.dispatchEvent(new Event('online'))")
    refused = first.get_by_test_id("outbox-refused")
    expect(refused).to_have_count(1)

    refused.get_by_role("button", name="Corriger").click()
    first.get_by_label("Code de la personne (facultatif)").fill("ZEB 1977")
    save_button(first).click()
    expect(saved_note(first)).to_be_visible()
    wait_until_sent(first)
    held[0].continue_()  # B's answer about the old entry arrives now
    first.wait_for_timeout(1500)
    assert outbox(first) == {"pending": 0, "failed": []}, "the refused entry came back"
    first.reload()
    expect(first.get_by_test_id("outbox-refused")).to_have_count(0)
    assert contact_rows(app) == 1


def test_another_account_is_never_served_the_cached_form_of_the_last(
    page: Page, live_server: str, world: World, app: Flask
) -> None:
    """Worker A's form, kept for offline use, carries A's account: after A's session ends
    and worker B logs in, the phone offline does not serve it to B (B's contacts would be
    tagged as A's and A's sent under B's session)."""
    open_offline_form(page, live_server, world)
    form_url = page.url
    page.context.set_offline(True)
    log_contact(page)
    page.context.clear_cookies()  # A's session ends
    page.context.set_offline(False)
    log_in(page, live_server, world.users["worker2"].email)
    page.context.set_offline(True)
    page.goto(form_url)
    expect(page.get_by_role("heading", name="Nouveau contact")).to_have_count(0)
    expect(page.get_by_role("heading", name="Pas de réseau")).to_be_visible()
    page.context.set_offline(False)
    page.goto(f"{live_server}/patrols")
    page.wait_for_timeout(1000)
    assert contact_rows(app) == 0, "A's contact waits for A"
