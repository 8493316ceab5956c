"""Real browser tests: a phone-sized Chromium drives the app served on a live port.

What a street worker does, tap by tap: log in, start a patrol, log a contact, follow a
referral up by the person's code, end the patrol. The outcomes are checked in the page
(visible text) and in the database. Full-page screenshots land in `conftest.ARTIFACTS`.
"""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import Browser, Locator, Page, Playwright, expect
from sqlalchemy import select

from outreach.extensions import db
from outreach.models import Contact, Patrol, Referral, ReferralStatusChange
from tests.browser_support import (
    DEVICE,
    MAX_TAPS_FOR_A_TYPICAL_CONTACT,
    MIN_TAP_TARGET_PX,
    RequestLog,
    chip,
    contact_rows,
    contacts_in_db,
    flash,
    go_to_open_patrol,
    log_in,
    open_contact_form,
    open_context,
    plus,
    save_button,
    saved_note,
    screenshot,
    start_patrol,
    submissions,
    wait_until_sent,
)
from tests.conftest import World

pytestmark = pytest.mark.browser


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
    screenshot(page, "03-contact-form-top", full_page=False)
    page.get_by_label("Code de la personne (facultatif)").fill("Éli 1990")
    chip(page, "Genre", "Femme").click()
    chip(page, "Besoins exprimés", "Alimentation").click()
    chip(page, "Besoins exprimés", "Hygiène").click()
    plus(page, "Kit base").click()
    plus(page, "Kit base").click()
    plus(page, "Embout").click()
    expect(page.get_by_label("Kit base", exact=True)).to_have_value("2")
    expect(page.get_by_label("Embout", exact=True)).to_have_value("1")
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

    expect(saved_note(page)).to_be_visible()
    screenshot(page, "06-contact-saved")
    wait_until_sent(page)
    go_to_open_patrol(page)
    expect(page.get_by_test_id("contact-count")).to_have_text("1")
    latest = page.get_by_role("listitem").filter(has_text="Alimentation, Hygiène")
    expect(latest).to_contain_text("Femme")
    expect(latest).to_contain_text("→ 115 / SIAO")
    screenshot(page, "07-patrol-with-contact")

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
    screenshot(page, "08-followup-history")

    for label, then_offered in (("Acceptée", True), ("Honorée", False)):
        history.get_by_label("Nouveau statut").select_option(label=label)
        history.get_by_role("button", name="Mettre à jour").click()
        expect(flash(page, f"Orientation mise à jour : {label}.")).to_be_visible()
        expect(history.get_by_text(label, exact=True)).to_be_visible()
        expect(history.get_by_label("Nouveau statut")).to_have_count(1 if then_offered else 0)
    screenshot(page, "09-followup-attended")

    # End of patrol: a report about the site, never about a person.
    go_to_open_patrol(page)
    page.get_by_role("link", name="Terminer la tournée").click()
    expect(page.get_by_role("heading", name="Terminer la tournée")).to_be_visible()
    expect(page.get_by_text("Stalingrad · 1 contact", exact=True)).to_be_visible()
    page.get_by_label("Personnes vues mais non rencontrées").fill("3")
    chip(page, "Ambiance sur le site", "Calme").click()
    page.get_by_label("Matériel usagé ramassé (nombre d'objets)").fill("12")
    page.get_by_label("Observations sur le site").fill("Peu de passage, site propre.")
    screenshot(page, "10-end-patrol")
    page.get_by_role("button", name="Terminer la tournée").click()

    expect(flash(page, "Tournée terminée. Merci !")).to_be_visible()
    assert page.url == f"{live_server}/patrols"
    expect(page.get_by_role("link", name="Commencer une tournée")).to_be_visible()
    screenshot(page, "11-patrols-home-after-end")

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
        assert steps == ["proposed", "accepted", "attended"]
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
    expect(saved_note(page)).to_be_visible()
    wait_until_sent(page)

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


def test_double_click_on_save_stores_one_contact(
    page: Page, live_server: str, world: World, app: Flask, request_log: RequestLog
) -> None:
    log_in(page, live_server, world.users["worker"].email)
    start_patrol(page)
    open_contact_form(page)
    chip(page, "Besoins exprimés", "Repos").click()

    save_button(page).dblclick()

    expect(saved_note(page).or_(flash(page, "déjà enregistré"))).to_be_visible()
    wait_until_sent(page)
    sent = submissions(request_log)
    print(f"\ndouble click on save: {sent} submission(s) reached the server")
    assert sent >= 1
    rows = contact_rows(app)
    assert rows == 1, f"{rows} contact rows after a double click ({sent} submissions received)"


def test_double_tap_on_save_stores_one_contact(
    page: Page, live_server: str, world: World, app: Flask, request_log: RequestLog
) -> None:
    """A finger that taps the save bar twice, a quarter of a second apart."""
    log_in(page, live_server, world.users["worker"].email)
    start_patrol(page)
    open_contact_form(page)
    chip(page, "Besoins exprimés", "Repos").click()
    box = save_button(page).bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

    page.touchscreen.tap(x, y)
    page.wait_for_timeout(250)
    page.touchscreen.tap(x, y)

    expect(saved_note(page).first).to_be_visible()
    wait_until_sent(page)
    contacts = contacts_in_db(app)
    sent = submissions(request_log)
    assert len(contacts) == 1, f"{len(contacts)} contact rows after a double tap ({sent} sent)"
    assert [n.need_code for n in contacts[0].needs] == ["rest"]


def test_concurrent_resubmission_stores_one_contact(
    page: Page, live_server: str, world: World, app: Flask, request_log: RequestLog
) -> None:
    """The same filled form posted twice at once without the outbox: one row (each save
    through the outbox makes its own id, so this guards the form without JavaScript)."""
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
    assert statuses == [200, 200], f"both posts should end on the patrol page: {statuses}"
    assert submissions(request_log) == 2
    contacts = contacts_in_db(app)
    assert len(contacts) == 1, "two simultaneous posts of one form stored two contacts"
    assert [n.need_code for n in contacts[0].needs] == ["food"]
    assert {m.material_code: m.quantity for m in contacts[0].materials} == {"kit_base": 1}
    go_to_open_patrol(page)
    expect(page.get_by_test_id("contact-count")).to_have_text("1")


DESCRIBE_JS = """(el) => {
    const name = (el.getAttribute("aria-label") || el.textContent || el.name || el.id || "")
        .trim().replace(/\\s+/g, " ").slice(0, 40);
    return el.tagName.toLowerCase() + (el.type ? `[${el.type}]` : "") + ` "${name}"`;
}"""

# Visible tap targets and their heights.
TAP_TARGETS_JS = f"""(elements) => {{
    const describe = {DESCRIBE_JS};
    return elements
        .filter((el) => {{
            const box = el.getBoundingClientRect();
            return box.width > 0 && box.height > 0 && getComputedStyle(el).visibility !== "hidden";
        }})
        .map((el) => ({{what: describe(el), height: el.getBoundingClientRect().height}}));
}}"""

# Elements whose right edge passes the given width: what makes the page scroll sideways.
OVERFLOWING_JS = f"""(width) => {{
    const describe = {DESCRIBE_JS};
    return Array.from(document.querySelectorAll("body *"))
        .filter((el) => el.getBoundingClientRect().right > width + 0.5)
        .map((el) => {{
            const right = Math.round(el.getBoundingClientRect().right);
            return `${{describe(el)}} ends at ${{right}}px`;
        }});
}}"""


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
    screen_width = (viewport or playwright.devices[DEVICE]["viewport"])["width"]
    context = open_context(browser, playwright, **overrides)
    try:
        page = context.new_page()
        log_in(page, live_server, world.users["worker"].email)
        start_patrol(page)
        open_contact_form(page)

        # Every part of the form, folded or not, is measured: unfold all of it.
        closed = page.locator("details:not([open]) > summary")
        for _ in range(closed.count()):
            closed.first.click()
        expect(closed).to_have_count(0)
        page.get_by_role("button", name="+ Ajouter une orientation").click()
        expect(page.get_by_role("group", name="Orientation 2")).to_be_visible()
        screenshot(page, f"12-contact-form-unfolded-{screen_width}px")

        targets = page.locator("button, label.chip > span, input, select").evaluate_all(
            TAP_TARGETS_JS
        )
        assert len(targets) > 50, f"too few tap targets found: {targets}"
        small = [t for t in targets if t["height"] < MIN_TAP_TARGET_PX]
        assert not small, (
            f"{len(small)} tap targets under {MIN_TAP_TARGET_PX}px high at {screen_width}px: "
            + "; ".join(f"{t['what']} {t['height']:.1f}px" for t in small)
        )

        inner_width, scroll_width = page.evaluate(
            "[window.innerWidth, document.documentElement.scrollWidth]"
        )
        overflowing = page.evaluate(OVERFLOWING_JS, screen_width)
        # A mobile browser widens its layout viewport to content that does not fit the
        # screen (innerWidth grows with scrollWidth): compare with the screen's width too.
        assert scroll_width <= inner_width == screen_width, (
            f"the contact form scrolls sideways on a {screen_width}px screen "
            f"(innerWidth {inner_width}px, scrollWidth {scroll_width}px): " + "; ".join(overflowing)
        )
    finally:
        context.close()


def test_without_javascript_the_form_saves_and_the_patrol_page_says_so(
    browser: Browser, playwright: Playwright, live_server: str, world: World, app: Flask
) -> None:
    """No script: the form posts, and the patrol page it lands on says "Contact enregistré."
    from its address (no flash in the cookie), and "déjà enregistré" for a replay."""
    context = open_context(browser, playwright, java_script_enabled=False)
    try:
        page = context.new_page()
        log_in(page, live_server, world.users["worker"].email)
        start_patrol(page)
        page.get_by_role("link", name="Nouveau contact").click()
        expect(page.get_by_role("heading", name="Nouveau contact")).to_be_visible()
        chip(page, "Besoins exprimés", "Alimentation").click()
        save_button(page).click()
        expect(flash(page, "Contact enregistré.")).to_be_visible()
        expect(page.get_by_test_id("contact-count")).to_have_text("1")
        assert "saved=" in page.url
        screenshot(page, "nojs-patrol-after-save")
        assert [n.need_code for n in contacts_in_db(app)[0].needs] == ["food"]

        # A replay of the same id lands on ?unchanged= (tests/test_capture_views.py).
        page.goto(page.url.replace("saved=", "unchanged="))
        expect(flash(page, "Ce contact était déjà enregistré")).to_be_visible()
        expect(flash(page, "Contact enregistré.")).to_have_count(0)
        assert contact_rows(app) == 1
    finally:
        context.close()
