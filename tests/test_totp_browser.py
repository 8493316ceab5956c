"""In Chromium: a funder and a supervisor log in with their second factor; an enrolment."""

from __future__ import annotations

import re

import pyotp
import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from tests import browser_support as support
from tests.conftest import PASSWORD, World

pytestmark = pytest.mark.browser
# The browser fixtures (tests/browser/conftest.py does the same for its folder).
browser, live_server, page = support.browser, support.live_server, support.page
playwright, request_log = support.playwright, support.request_log


@pytest.mark.parametrize(("key", "home"), [("funder", "Synthèse"), ("supervisor", "Équipe")])
def test_a_second_factor_login(
    page: Page, live_server: str, app: Flask, world: World, key: str, home: str
) -> None:
    support.log_in_as(page, live_server, app, world, key)
    expect(page.get_by_role("link", name=home)).to_be_visible()
    assert not page.url.endswith(("/login", "/login/code", "/account/second-factor"))


def test_enrolment_in_the_browser(page: Page, live_server: str, world: World) -> None:
    page.goto(f"{live_server}/login")
    page.get_by_label("Adresse e-mail").fill(world.users["admin"].email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Activer le second facteur")).to_be_visible()
    expect(page.get_by_role("img", name="QR code du second facteur")).to_be_visible()
    support.screenshot(page, "totp-enrolment")
    secret = re.sub(r"\s", "", page.locator("code.secret-key").inner_text())
    page.get_by_label("Code affiché par l'application").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Activer").click()
    expect(page.get_by_role("heading", name="Codes de secours")).to_be_visible()
    expect(page.locator("ul.codes code")).to_have_count(10)
    page.get_by_role("link", name="C'est noté, continuer").click()
    expect(page.get_by_role("heading", name="Administration")).to_be_visible()
