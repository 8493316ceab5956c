"""A phone whose browser speaks English: the login page's switcher, then the contact form.

English labels run longer than the French ones on some chips and steppers: the form must
still fit a Pixel 5's width. Screenshots: i18n-*.png in the test artifacts.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect

from tests.browser_support import chip, flash, open_context, screenshot
from tests.conftest import PASSWORD, World

pytestmark = pytest.mark.browser

OVERFLOW_JS = "() => document.documentElement.scrollWidth - window.innerWidth"


def fits_the_screen(page: Page) -> None:
    assert page.evaluate(OVERFLOW_JS) <= 0, "the page scrolls sideways"


def test_an_english_phone_logs_a_contact_in_english(
    browser: Browser, playwright: Playwright, live_server: str, world: World
) -> None:
    context = open_context(browser, playwright, locale="en-GB")
    try:
        page = context.new_page()
        page.goto(f"{live_server}/login")
        expect(page.get_by_role("heading", name="Log in")).to_be_visible()
        # The switcher: plain links, remembered on the device.
        page.get_by_role("link", name="Français").click()
        expect(page.get_by_role("heading", name="Connexion")).to_be_visible()
        page.get_by_role("link", name="English").click()
        expect(page.get_by_role("heading", name="Log in")).to_be_visible()
        screenshot(page, "i18n-login-en")

        page.get_by_label("Email address").fill(world.users["worker"].email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.get_by_role("link", name="Start a patrol").click()
        chip(page, "Area", "Stalingrad").click()
        page.get_by_role("button", name="Start", exact=True).click()
        expect(flash(page, "Patrol started. Have a good round!")).to_be_visible()

        page.get_by_role("link", name="New contact").click()
        expect(page.get_by_role("heading", name="New contact")).to_be_visible()
        expect(page.get_by_role("button", name="One more: Crack smoking kit")).to_be_visible()
        expect(chip(page, "Needs expressed", "Shelter / accommodation")).to_be_visible()
        expect(chip(page, "Housing", "Emergency shelter")).to_be_visible()
        screenshot(page, "i18n-contact-form-en-top", full_page=False)
        # The longest English labels: the injection material and the referral destinations.
        page.get_by_text("Injection", exact=True).click()
        page.get_by_text("Referrals", exact=True).click()
        page.get_by_label("Destination").first.select_option(
            label="Residential care outside Île-de-France"
        )
        page.get_by_role(
            "button", name="One more: Injection kit (Kit+ / Stéribox)"
        ).scroll_into_view_if_needed()
        fits_the_screen(page)
        screenshot(page, "i18n-contact-form-en-materials", full_page=False)
        screenshot(page, "i18n-contact-form-en")
    finally:
        context.close()
