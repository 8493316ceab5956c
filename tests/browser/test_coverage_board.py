"""The coverage board on a Pixel 5: cards by zone, no sideways scroll."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from outreach.clock import now_utc
from outreach.coverage.services import plan_patrol, tonight
from outreach.extensions import db
from outreach.models import Association, User
from tests.browser_support import log_in_as, screenshot
from tests.conftest import World
from tests.reports_fixtures import add_patrol, zone_id

pytestmark = pytest.mark.browser


def test_the_coverage_board_on_a_phone(
    page: Page, live_server: str, app: Flask, world: World
) -> None:
    with app.app_context():
        session = db.session()
        demo = session.get(Association, world.demo.id)
        worker = session.get(User, world.id_of("worker"))
        other = session.get(User, world.id_of("other_supervisor"))
        assert demo and worker and other
        start = now_utc() - timedelta(days=1)
        add_patrol(session, demo, worker, start, start + timedelta(hours=2), "stalingrad")
        night = tonight(now_utc())
        plan_patrol(session, other, zone_id(session, "stalingrad"), night, "night", now_utc())
        session.commit()
    log_in_as(page, live_server, app, world, "supervisor")
    page.goto(f"{live_server}/coverage")
    expect(page.get_by_role("heading", level=1)).to_have_text("Couverture des zones")
    expect(page.locator(".cov-card").first).to_be_visible()
    expect(page.locator(".cov-grid-wrap")).to_be_hidden()
    expect(page.get_by_role("heading", name="À signaler")).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the board is {overflow}px wider than the phone's screen"
    screenshot(page, "coverage-board-phone", full_page=False)
    page.locator(".cov-card").first.scroll_into_view_if_needed()
    screenshot(page, "coverage-board-phone-card", full_page=False)
