"""The referral queue on a Pixel 5: from the patrols home to a status moved on in two taps."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from config import Settings
from outreach.clock import now_utc
from outreach.extensions import db
from outreach.models import Association, Referral, User
from tests.browser_support import log_in_as, screenshot
from tests.conftest import World
from tests.reports_fixtures import add_contact

pytestmark = pytest.mark.browser


@pytest.fixture
def open_referrals(app: Flask, world: World, settings: Settings) -> int:
    """Three open referrals of `demo` (two overdue), one of `other`; the oldest's id."""
    with app.app_context():
        demo = db.session.get(Association, world.demo.id)
        other = db.session.get(Association, world.other.id)
        worker = db.session.get(User, world.id_of("worker"))
        other_worker = db.session.get(User, world.id_of("other_worker"))
        assert demo and other and worker and other_worker
        now = now_utc()
        oldest = add_contact(
            db.session,
            settings,
            demo,
            worker,
            now - timedelta(days=12),
            code="Éli 1990",
            referrals=[("medical_beds", True, "proposed")],
        )
        add_contact(
            db.session,
            settings,
            demo,
            worker,
            now - timedelta(days=9),
            referrals=[("shelter_115", False, "accepted")],
        )
        add_contact(
            db.session,
            settings,
            demo,
            worker,
            now - timedelta(days=1),
            code="kim 2001",
            referrals=[("csapa", False, "proposed")],
        )
        add_contact(
            db.session,
            settings,
            other,
            other_worker,
            now - timedelta(days=30),
            code="Éli 1990",
            referrals=[("hsa", False, "proposed")],
        )
        db.session.commit()
        return oldest.referrals[0].id


def test_the_queue_on_a_phone_moves_a_referral_on_in_two_taps(
    page: Page, live_server: str, app: Flask, world: World, open_referrals: int
) -> None:
    log_in_as(page, live_server, app, world, "worker")
    page.goto(f"{live_server}/patrols")
    link = page.get_by_role("link", name="2 orientations à relancer")
    expect(link).to_be_visible()
    link.click()

    expect(page.get_by_role("heading", level=1, name="Orientations à suivre")).to_be_visible()
    cards = page.get_by_test_id("queued-referral")
    expect(cards).to_have_count(3)  # never the other association's
    expect(page.locator("main")).not_to_contain_text("HSA")
    expect(page.locator("main")).not_to_contain_text("1990")
    first = cards.first
    expect(first).to_contain_text("LHSS / LAM")
    expect(first).to_contain_text("à relancer")
    expect(first).to_contain_text("il y a 12 jours")
    expect(cards.last).not_to_contain_text("à relancer")
    screenshot(page, "referral-queue")

    width, scroll_width = page.evaluate("[window.innerWidth, document.documentElement.scrollWidth]")
    assert scroll_width <= width, f"the queue scrolls sideways ({scroll_width}px > {width}px)"

    # Tap 1: open the card's choices; tap 2: the new status.
    first.get_by_text("Mettre à jour").click()
    first.get_by_role("button", name="Acceptée").click()
    expect(page.locator(".flash")).to_contain_text("Orientation mise à jour : Acceptée.")
    screenshot(page, "referral-queue-updated")
    expect(page.get_by_test_id("overdue-count")).to_have_text("1")
    with app.app_context():
        referral = db.session.get(Referral, open_referrals)
        assert referral is not None and referral.status == "accepted"
