"""The funders' published figures (cell key method) on the hand-built fixture, without HTTP:
every published count obeys the contract of docs/reports.md against the true count, the
same cell always gets the same value, longer periods are cells of their own, and
supervisors keep exact figures."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from config import Settings, get_settings
from outreach.extensions import db
from outreach.models import ALL, Association, Contact, User
from outreach.reports.cellkey import KEY_SPACE, PTable, contact_record_key
from outreach.reports.indicators import Registry
from outreach.reports.periods import (
    Period,
    month_period,
    plan_period,
    quarter_period,
    week_period,
    ytd_period,
)
from outreach.reports.services import (
    Cell,
    dashboard,
    funders_summary,
    load_measures,
)

from .conftest import World
from .reports_fixtures import (  # noqa: F401 (fixtures)
    W13,
    W14,
    Scene,
    add_contact,
    paris,
    registry_fixture,
    scene_fixture,
)

TABLE = PTable(5, 3)


def readers_interval(published: int) -> range:
    """What the contract lets a reader deduce of the true count."""
    if published == 0:
        return range(0, TABLE.threshold + TABLE.max_noise)
    return range(max(TABLE.threshold, published - TABLE.max_noise), published + TABLE.max_noise + 1)


def periods() -> list[Period]:
    return [week_period(W13), week_period(W14), month_period(2026, 4), quarter_period(2026, 1)]


def test_every_published_count_obeys_the_contract(scene: Scene, registry: Registry) -> None:
    for period in [*periods(), ytd_period(W14), plan_period(W13, W14)]:
        summary = funders_summary(db.session, period, TABLE)
        measures = load_measures(
            db.session, period.first_week, period.last_week, association_id=None
        )
        for indicator in registry.indicators:
            if indicator.unit != "count" or indicator.protection == "activity":
                continue
            cells = [
                ((ALL, ALL), next(r.total for r in summary.rows if r.indicator == indicator)),
                *(((ALL, z), c) for z, c in summary.by_zone[indicator.code].items()),
                *(((a, ALL), c) for a, c in summary.by_association[indicator.code].items()),
            ]
            for (association_id, zone_id), cell in cells:
                true = indicator.value(
                    measures.sums(period.weeks, association_id, zone_id, period.kind)
                )
                assert cell.note == "cell-key"
                assert cell.value is not None and not 0 < cell.value < TABLE.threshold
                assert int(true or 0) in readers_interval(int(cell.value)), (
                    period,
                    indicator.code,
                    association_id,
                    zone_id,
                )


def test_shares_and_rates_are_derived_and_activity_is_exact(
    scene: Scene, registry: Registry
) -> None:
    summary = funders_summary(db.session, week_period(W14), TABLE)
    totals = {row.indicator.code: row.total for row in summary.rows}
    assert totals["patrols"].note == "" and totals["patrol_hours"].note == ""
    for code in ("women_share", "night_share", "referral_completion_rate"):
        assert totals[code].note == "derived"
        assert totals[code].value is None or 0 <= totals[code].value <= 1


def test_the_same_cell_gets_the_same_value_in_every_query(scene: Scene, registry: Registry) -> None:
    first = funders_summary(db.session, week_period(W14), TABLE)
    again = funders_summary(db.session, week_period(W14), TABLE)
    assert first == again
    # W14 inside the trend of a longer period's summary: the same published value.
    month = funders_summary(db.session, month_period(2026, 4), TABLE)
    by_week = dict(zip(month.trend_weeks, month.trends["contacts"], strict=True))
    assert by_week[W14] == next(r.total for r in first.rows if r.indicator.code == "contacts")
    # Two periods made of the same weeks hold the same records: the same published values.
    ytd = funders_summary(db.session, ytd_period(W14), TABLE)
    plan = funders_summary(db.session, plan_period(W13, W14), TABLE)
    for code in ("contacts", "need.shelter", "material.kit_base", "referrals_accompanied"):
        assert ytd.by_zone.get(code) == plan.by_zone.get(code)


def test_a_longer_period_is_a_cell_of_its_own(scene: Scene, registry: Registry) -> None:
    """The month's contacts are the month's true count perturbed with the month's own key
    (the sum of its contacts' keys), not a sum of published weeks."""
    month = month_period(2026, 4)
    master_key = get_settings(current_app).pseudonym_key
    contact_ids = db.session.scalars(
        select(Contact.id).where(Contact.iso_week.in_(list(month.weeks)))
    ).all()
    key = sum(contact_record_key(master_key, str(i)) for i in contact_ids) % KEY_SPACE
    summary = funders_summary(db.session, month, TABLE)
    total = next(r.total for r in summary.rows if r.indicator.code == "contacts")
    assert total == Cell(TABLE.lookup(len(contact_ids), key), "cell-key")


def test_published_figures_follow_contacts_written_since_the_last_view(
    scene: Scene, registry: Registry, world: World, settings: Settings
) -> None:
    before = funders_summary(db.session, week_period(W14), TABLE)
    assert before.by_zone["contacts"][scene.saint_denis].value == 0  # 1 contact: shown 0
    demo = db.session.get(Association, scene.demo)
    worker = db.session.get(User, world.id_of("worker"))
    assert demo and worker
    for day in range(9):
        add_contact(
            db.session, settings, demo, worker, paris(2026, 4, 1 + day % 5, 15), "saint_denis"
        )
    db.session.commit()
    after = funders_summary(db.session, week_period(W14), TABLE)
    assert after.by_zone["contacts"][scene.saint_denis].value in readers_interval(10)
    assert after.by_zone["contacts"][scene.saint_denis].value >= TABLE.threshold


def test_supervisors_keep_exact_figures(scene: Scene, registry: Registry) -> None:
    association = db.session.get(Association, scene.demo)
    assert association is not None
    measures = load_measures(db.session, W14, W14, association_id=scene.demo)
    data = dashboard(db.session, association, W14)
    exact = {figure.indicator.code: figure.value for figure in data.headline}
    sums = measures.sums([W14], scene.demo, ALL, "week")
    for code, value in exact.items():
        assert value == registry[code].value(sums)
