"""The activity report on a phone (no sideways scroll) and printed to an A4 PDF by Chromium."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from config import Settings
from outreach.extensions import db
from outreach.models import Association, User
from tests.browser_support import log_in_as, screenshot
from tests.conftest import ARTIFACTS, World
from tests.reports_fixtures import add_contact, add_patrol, paris

pytestmark = pytest.mark.browser

ZONES = ["stalingrad", "jardins_eole", "porte_chapelle", "gare_du_nord", "saint_denis"]


@pytest.fixture
def year_of_activity(app: Flask, world: World, settings: Settings) -> None:
    """A patrol every four days of 2025 and the first weeks of 2026, people met again."""
    rng = random.Random(21)
    with app.app_context():
        demo = db.session.get(Association, world.demo.id)
        worker = db.session.get(User, world.id_of("worker"))
        assert demo and worker
        for day in range(0, 400, 4):
            start = paris(2025, 1, 2, 21) + timedelta(days=day)
            zone = rng.choice(ZONES)
            patrol = add_patrol(db.session, demo, worker, start, start + timedelta(hours=3), zone)
            for minute in rng.sample(range(170), 6):
                add_contact(
                    db.session,
                    settings,
                    demo,
                    worker,
                    start + timedelta(minutes=minute),
                    zone,
                    code=f"P{rng.randrange(90)} 1990" if rng.random() < 0.7 else None,
                    gender=rng.choice(["male", "male", "female", "unknown"]),
                    age_band=rng.choice(["25_34", "35_44", "45_54", "unknown"]),
                    housing=rng.choice(["street", "squat", "emergency_shelter", "unknown"]),
                    materials={"kit_base": rng.randint(1, 3)} if rng.random() < 0.6 else {},
                    referrals=[("csapa", rng.random() < 0.4, "accepted")]
                    if rng.random() < 0.2
                    else [],
                    patrol=patrol,
                )
        db.session.commit()


def test_activity_report_on_a_phone_and_on_paper(
    page: Page, live_server: str, app: Flask, world: World, year_of_activity: None
) -> None:
    log_in_as(page, live_server, app, world, "supervisor")
    page.goto(f"{live_server}/reports/associations/demo")
    page.get_by_role("link", name="Rapport d'activité : année, trimestre ou mois").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Rapport d'activité")
    # Pick the year, as a supervisor would (the default may be another one).
    page.get_by_label("Période").select_option(value="year:2025")
    page.get_by_role("button", name="Afficher").click()
    expect(page.locator("p.period-title")).to_contain_text("Année 2025")
    expect(page.locator("#figure-people_distinct")).to_contain_text("File active")
    expect(page.get_by_role("heading", name="Activité par zone")).to_be_visible()
    expect(page.locator("main")).to_contain_text("pas encore saisies")

    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the page is {overflow}px wider than the phone's screen"
    # Nor does any table scroll on its own: every column is in sight.
    scrolled = page.locator(".table-scroll").evaluate_all(
        "boxes => boxes.filter(b => b.scrollWidth > b.clientWidth + 1)"
        ".map(b => b.parentElement.getAttribute('aria-labelledby'))"
    )
    assert not scrolled, scrolled
    screenshot(page, "activity-report-phone")
    screenshot(page, "activity-report-phone-top", full_page=False)
    page.evaluate("document.getElementById('section-zone').scrollIntoView()")
    screenshot(page, "activity-report-phone-zones", full_page=False)

    page.emulate_media(media="print")
    expect(page.get_by_role("button", name="Afficher")).to_be_hidden()
    screenshot(page, "activity-report-print")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pdf = ARTIFACTS / "activity-report-a4.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=False)
    content = pdf.read_bytes()
    assert content.startswith(b"%PDF")
    pages = content.count(b"/Type /Page") - content.count(b"/Type /Pages")
    assert 1 <= pages <= 6, pages
