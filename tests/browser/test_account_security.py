"""On a phone (Pixel 5): the first login of a supervisor an admin created in the interface,
and the confirmation of the account actions that end someone's sessions."""

from __future__ import annotations

import re

import pyotp
import pytest
from flask import Flask
from playwright.sync_api import Browser, Locator, Page, Playwright, expect

from tests import browser_support as support
from tests.conftest import World

pytestmark = pytest.mark.browser

NEW_PASSWORD = "a new passphrase for the first night"
MIN_TARGET = 44  # CSS pixels: the smallest tap target of the project (static/css/app.css)


def test_first_login_of_a_supervisor_created_in_the_interface(
    page: Page, live_server: str, app: Flask, world: World, browser: Browser, playwright: Playwright
) -> None:
    support.log_in_as(page, live_server, app, world, "admin")
    page.goto(f"{live_server}/accounts/new")
    page.get_by_label("Adresse e-mail").fill("nouvelle@demo.test")
    page.get_by_label("Nom affiché").fill("Nouvelle")
    page.get_by_label("Rôle").select_option(label="Coordinateur·rice")
    page.get_by_label("Association").select_option(label="Maraude Démo")
    page.get_by_role("button", name="Créer le compte").click()
    temporary = page.locator(".temporary-password code").inner_text()

    phone = support.open_context(browser, playwright).new_page()
    phone.goto(f"{live_server}/login")
    phone.get_by_label("Adresse e-mail").fill("nouvelle@demo.test")
    phone.get_by_label("Mot de passe").fill(temporary)
    phone.get_by_role("button", name="Se connecter").click()
    expect(phone.get_by_role("heading", name="Changer de mot de passe")).to_be_visible()
    phone.get_by_label("Mot de passe actuel").fill(temporary)
    phone.get_by_label("Nouveau mot de passe", exact=True).fill(NEW_PASSWORD)
    phone.get_by_label("Nouveau mot de passe, encore").fill(NEW_PASSWORD)
    phone.get_by_role("button", name="Changer le mot de passe").click()
    expect(phone.get_by_role("heading", name="Activer le second facteur")).to_be_visible()
    secret = re.sub(r"\s", "", phone.locator("code.secret-key").inner_text())
    phone.get_by_label("Code affiché par l'application").fill(pyotp.TOTP(secret).now())
    phone.get_by_role("button", name="Activer").click()
    expect(phone.get_by_role("heading", name="Codes de secours")).to_be_visible()
    phone.get_by_role("link", name="C'est noté, continuer").click()
    expect(phone.get_by_role("heading", name="Maraude Démo")).to_be_visible()
    assert phone.url == f"{live_server}/team"
    support.screenshot(phone, "first-login-supervisor-landing")
    phone.context.close()


def box(locator: Locator) -> dict[str, float]:
    found = locator.bounding_box()
    assert found is not None
    return found


def gap(first: dict[str, float], second: dict[str, float]) -> float:
    """The distance between two boxes (0 if they touch or overlap)."""
    horizontal = max(
        second["x"] - (first["x"] + first["width"]), first["x"] - (second["x"] + second["width"])
    )
    vertical = max(
        second["y"] - (first["y"] + first["height"]),
        first["y"] - (second["y"] + second["height"]),
    )
    return max(horizontal, vertical, 0.0)


def test_account_actions_are_large_apart_and_confirmed(
    page: Page, live_server: str, app: Flask, world: World
) -> None:
    support.log_in_as(page, live_server, app, world, "supervisor")
    page.goto(f"{live_server}/accounts")
    item = page.get_by_role("listitem").filter(has_text=world.users["worker2"].email)
    buttons = item.get_by_role("button")
    boxes = [box(buttons.nth(index)) for index in range(buttons.count())]
    assert len(boxes) >= 2
    for found in boxes:
        assert found["height"] >= MIN_TARGET and found["width"] >= MIN_TARGET, found
    for index, first in enumerate(boxes):
        for second in boxes[index + 1 :]:
            assert gap(first, second) >= 8, (first, second)
    support.screenshot(page, "accounts-actions-phone")

    item.get_by_role("button", name="Désactiver").click()
    expect(page.get_by_role("heading", name="Désactiver ce compte ?")).to_be_visible()
    cancel = page.get_by_role("link", name="Non, revenir aux comptes")
    confirm = page.get_by_role("button", name="Oui, désactiver le compte")
    cancel_box, confirm_box = box(cancel), box(confirm)
    for found in (cancel_box, confirm_box):
        assert found["height"] >= MIN_TARGET and found["width"] >= MIN_TARGET, found
    assert gap(cancel_box, confirm_box) >= 24, "the two answers are far apart"
    support.screenshot(page, "accounts-confirm-deactivation-phone")
    cancel.click()
    expect(page.get_by_role("heading", name="Comptes")).to_be_visible()
    item = page.get_by_role("listitem").filter(has_text=world.users["worker2"].email)
    expect(item.get_by_role("button", name="Désactiver")).to_be_visible()

    item.get_by_role("button", name="Désactiver").click()
    page.get_by_role("button", name="Oui, désactiver le compte").click()
    expect(support.flash(page, "désactivé")).to_be_visible()
    expect(item.get_by_role("button", name="Réactiver")).to_be_visible()
