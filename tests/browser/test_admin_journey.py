"""An admin on a phone (Pixel 5 in Chromium): adds a need, sees it, retires it; every admin
page fits the screen (tables scroll inside their box) with tap targets of 44 px at least."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from outreach.extensions import db
from outreach.models import Need
from tests.browser_support import MIN_TAP_TARGET_PX, flash, log_in_as, screenshot
from tests.conftest import World

pytestmark = pytest.mark.browser

# Buttons and links of the page's main part smaller than a thumb (inline links aside).
SMALL_TARGETS_JS = """(min) => [...document.querySelectorAll(
    'main button, main .button, main summary, main select, main input:not([type=hidden])'
)].filter((el) => el.offsetParent !== null).map((el) => {
    const box = el.getBoundingClientRect();
    return {text: (el.getAttribute('aria-label') || el.textContent || el.name).trim(),
            width: box.width, height: box.height};
}).filter((box) => box.height < min || box.width < min)"""


def fits_the_phone(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"{page.url} is {overflow}px wider than the screen"
    small = page.evaluate(SMALL_TARGETS_JS, MIN_TAP_TARGET_PX)
    assert not small, f"tap targets under {MIN_TAP_TARGET_PX}px on {page.url}: {small}"


def test_admin_adds_a_need_sees_it_and_retires_it(
    page: Page, live_server: str, app: Flask, world: World
) -> None:
    log_in_as(page, live_server, app, world, "admin")
    page.get_by_role("navigation", name="Navigation principale").get_by_role(
        "link", name="Administration"
    ).click()
    expect(page.get_by_role("heading", level=1, name="Administration")).to_be_visible()
    fits_the_phone(page)
    screenshot(page, "admin-home-phone")

    page.get_by_role("link", name="Besoins").click()
    expect(page.get_by_role("heading", level=1, name="Besoins")).to_be_visible()
    page.get_by_text("Ajouter une entrée").click()
    # A code typed wrongly first: the error shows on its field, nothing is added.
    page.get_by_label("Libellé en français").fill("Recharge de téléphone")
    page.get_by_label("Libellé en anglais").fill("Phone charging")
    page.get_by_label("Code", exact=True).fill("recharge téléphone")
    page.get_by_role("button", name="Ajouter", exact=True).click()
    code = page.get_by_label("Code", exact=True)
    expect(code).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#error-code")).to_contain_text("Lettres minuscules sans accent")
    fits_the_phone(page)
    screenshot(page, "admin-need-error-phone")

    code.fill("Phone_Charge")  # phones capitalise: kept in lowercase
    page.get_by_role("button", name="Ajouter", exact=True).click()
    expect(flash(page, "« Recharge de téléphone » ajouté.")).to_be_visible()
    item = page.locator("#entry-phone_charge")
    expect(item).to_contain_text("Recharge de téléphone")
    expect(item).to_contain_text("phone_charge")
    fits_the_phone(page)
    screenshot(page, "admin-needs-phone")

    item.get_by_role("button", name="Monter : Recharge de téléphone").click()
    expect(page.locator("#entry-phone_charge")).to_be_visible()
    page.locator("#entry-phone_charge").get_by_role(
        "button", name="Retirer : Recharge de téléphone"
    ).click()
    expect(flash(page, "« Recharge de téléphone » retiré")).to_be_visible()
    retired = page.locator("#entry-phone_charge")
    expect(retired.locator(".tag")).to_have_text("retiré")
    expect(retired.get_by_role("button", name="Rétablir : Recharge de téléphone")).to_be_visible()
    with app.app_context():
        need = db.session.get(Need, "phone_charge")
        assert need is not None and not need.active

    # The other admin pages, as an admin sees them on the phone.
    for path, name in (
        ("/admin/associations", "admin-associations-phone"),
        ("/admin/zones", "admin-zones-phone"),
        ("/admin/taxonomies/materials", "admin-materials-phone"),
        ("/admin/taxonomies/destinations", "admin-destinations-phone"),
        ("/admin/taxonomies/materials/kit_base", "admin-material-edit-phone"),
        ("/accounts/new", "admin-new-account-phone"),
        ("/accounts", "admin-accounts-phone"),
    ):
        page.goto(f"{live_server}{path}")
        fits_the_phone(page)
        screenshot(page, name)
    page.goto(f"{live_server}/admin/zones")
    page.get_by_text("Ajouter une zone").click()
    screenshot(page, "admin-zones-form-phone", full_page=False)
