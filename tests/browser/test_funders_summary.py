"""The funders' summary in a phone-sized Chromium: published figures, charts, print view."""

from __future__ import annotations

import random
import re
from datetime import timedelta

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from config import Settings
from outreach.extensions import db
from outreach.models import Association, Contact, IndicatorTarget, User
from tests.browser_support import log_in_as, screenshot
from tests.conftest import World
from tests.reports_fixtures import add_contact, add_patrol, paris

pytestmark = pytest.mark.browser

OVERLAPPING_LABELS_JS = """() => {
  const found = [];
  for (const svg of document.querySelectorAll('#trends svg')) {
    const boxes = [...svg.querySelectorAll('text')]
      .filter(t => t.textContent.trim())
      .map(t => [t.textContent, t.getBoundingClientRect()]);
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const [a, ra] = boxes[i], [b, rb] = boxes[j];
        if (ra.left < rb.right - 0.5 && rb.left < ra.right - 0.5 &&
            ra.top < rb.bottom - 0.5 && rb.top < ra.bottom - 0.5) found.push([a, b]);
      }
    }
  }
  return found;
}"""

ZONES = ["stalingrad", "jardins_eole", "porte_chapelle", "gare_du_nord", "saint_denis", "pantin"]
NEEDS = ["shelter", "food", "rdr_material", "hygiene", "somatic_care", "addiction_treatment"]
DESTINATIONS = ["caarud", "shelter_115", "csapa", "hsa", "rest_area"]


@pytest.fixture
def busy_weeks(app: Flask, world: World, settings: Settings) -> None:
    """Six weeks of both associations' activity (2026-W09 to W14), busy in some zones only."""
    rng = random.Random(14)
    with app.app_context():
        for association_id, author_key, share in (
            (world.demo.id, "worker", 0.7),
            (world.other.id, "other_worker", 0.3),
        ):
            association = db.session.get(Association, association_id)
            author = db.session.get(User, world.id_of(author_key))
            assert association and author
            for day in range(42):
                start = paris(2026, 2, 23, 21) + timedelta(days=day)
                add_patrol(db.session, association, author, start, start.replace(hour=23))
                for _ in range(round(14 * share)):
                    zone = rng.choices(ZONES, weights=[30, 20, 15, 10, 4, 1])[0]
                    code = f"P{rng.randrange(120)} 1990" if rng.random() < 0.7 else None
                    add_contact(
                        db.session,
                        settings,
                        association,
                        author,
                        start.replace(minute=rng.randrange(60)),
                        zone,
                        code=code,
                        gender=rng.choice(["male", "male", "female", "unknown"]),
                        needs=rng.sample(NEEDS, k=rng.choice([0, 1, 2])),
                        materials={"kit_base": rng.randint(1, 3)} if rng.random() < 0.6 else {},
                        referrals=[(rng.choice(DESTINATIONS), rng.random() < 0.3, "attended")]
                        if rng.random() < 0.2
                        else [],
                    )
        admin = db.session.scalar(select(User).where(User.role == "admin"))
        assert admin is not None
        db.session.add(
            IndicatorTarget(
                indicator="contacts",
                period="week",
                value=50,
                updated_at=paris(2026, 2, 1, 12),
                updated_by_id=admin.id,
            )
        )
        db.session.commit()


def test_funders_summary_on_a_phone(
    page: Page, live_server: str, app: Flask, world: World, busy_weeks: None
) -> None:
    with app.app_context():
        secrets = {
            value
            for contact in db.session.scalars(select(Contact))
            for value in (
                contact.pseudonym_association,
                contact.pseudonym_region,
                str(contact.client_id),
            )
            if value
        }
    log_in_as(page, live_server, app, world, "funder")
    page.goto(f"{live_server}/summary?period=week:2026-W14")
    expect(page.get_by_role("heading", level=1, name="Synthèse des maraudes")).to_be_visible()
    period_title = page.locator("p.period-title")
    expect(period_title).to_have_text("Semaine 2026-W14")

    # Pick a longer period in the selector, as a funder would.
    page.get_by_label("Période").select_option(label="avril 2026")
    page.get_by_role("button", name="Afficher").click()
    expect(period_title).to_contain_text("avril 2026")
    expect(period_title).to_contain_text("semaines 2026-W14 à 2026-W18")
    page.get_by_label("Période").select_option(value="week:2026-W14")
    page.get_by_role("button", name="Afficher").click()

    breakdown = page.get_by_role("table").filter(has_text="Par zone")
    expect(breakdown.get_by_role("row", name="Pantin")).to_have_text(re.compile(r"Pantin\s*\d+"))
    expect(page.locator("main")).not_to_contain_text("masqué")
    # The target and the progress read as words, never glued to the figure.
    target = page.get_by_role("row", name=re.compile("^Contacts")).locator("td.target").first
    expect(target).to_contain_text("objectif 50")
    expect(target).to_contain_text(re.compile(r"atteint à \d+ %"))
    expect(page.locator("main")).to_contain_text("Nouvelles personnes peut dépasser")
    charts = page.get_by_role("img", name="Contacts par semaine, toutes associations")
    expect(charts).to_be_visible()
    body = page.content()
    assert not any(secret in body for secret in secrets), "a record leaked to a funder"

    # The trend charts' labels never overlap one another.
    overlaps = page.evaluate(OVERLAPPING_LABELS_JS)
    assert not overlaps, overlaps
    # Nothing overflows the phone's width, whichever indicator is detailed.
    codes = page.locator("#indicator option").evaluate_all("options => options.map(o => o.value)")
    assert len(codes) > 30
    for code in codes:
        page.goto(f"{live_server}/summary?period=month:2026-03&indicator={code}")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"the page is {overflow}px wider than the screen with {code}"
    page.goto(f"{live_server}/summary?period=week:2026-W14")
    screenshot(page, "funders-summary-phone")
    screenshot(page, "funders-summary-phone-top", full_page=False)
    for section in ("trends", "breakdown"):
        page.locator(f"#{section}").scroll_into_view_if_needed()
        page.evaluate(f"document.getElementById('{section}').scrollIntoView()")
        screenshot(page, f"funders-summary-phone-{section}", full_page=False)
    page.emulate_media(media="print")
    expect(page.get_by_role("button", name="Afficher")).to_be_hidden()
    screenshot(page, "funders-summary-print")
