"""Every indicator against numbers worked out by hand on a small fixture, without HTTP.

The fixture straddles the spring DST change (Sunday 29 March 2026) and the end of the
first quarter: ISO week 2026-W13 (23-29 March, March, Q1) then 2026-W14 (30 March-5 April,
April, Q2). Contacts sit on the night edges (19:59 / 20:00, 06:59 / 07:00), one at
00:30 on Monday in Paris that is still Sunday in UTC, and one person is met under three
spellings of their code ("Éli 1990", "eli-1990", "ELI 1990") by both associations.
"""

from __future__ import annotations

import pytest

from outreach.extensions import db
from outreach.models import ALL, Association
from outreach.reports.indicators import Registry
from outreach.reports.periods import month_period, quarter_period, ytd_period
from outreach.reports.services import (
    Measures,
    dashboard,
    load_measures,
    referral_statuses,
)

from .reports_fixtures import (  # noqa: F401 (fixtures)
    W13,
    W14,
    Scene,
    add_contact,
    paris,
    registry_fixture,
    scene_fixture,
)


def values(
    registry: Registry, measures: Measures, weeks: list[str], association: int, zone: int, kind: str
) -> dict[str, float | None]:
    sums = measures.sums(weeks, association, zone, kind)
    return {indicator.code: indicator.value(sums) for indicator in registry.indicators}


def test_one_association_week_by_hand(scene: Scene, registry: Registry) -> None:
    measures = load_measures(db.session, W13, W14, association_id=scene.demo)
    got = values(registry, measures, [W14], scene.demo, ALL, "week")
    expected = {
        "contacts": 5,
        "people_distinct": 2,  # Éli (two spellings), Zo
        "people_new": 2,  # Éli, plus the anonymous first contact; Zo was met in W13
        "contacts_anonymous": 2,
        "women_share": 0.5,  # 2 women among 4 known genders
        "night_share": 0.6,  # 00:30, 20:00 and 23:59; not 07:00 nor 19:59
        "patrols": 1,
        "patrol_hours": 3,
        "contacts_per_patrol_hour": 5 / 3,
        "need.shelter": 1,
        "need.food": 1,
        "need.rest": 0,
        "material.kit_base": 2,
        "material.filter": 4,
        "referral.shelter_115": 1,
        "referral.csapa": 1,
        "referral.hsa": 1,
        "referrals_accompanied": 2,
        "referrals_attended": 1,
        "referral_completion_rate": 1 / 3,
        "referrals_shelter": 1,
        "referrals_treatment": 2,
    }
    assert {code: got[code] for code in expected} == pytest.approx(expected)


def test_week_edges_follow_paris_time_across_the_dst_change(
    scene: Scene, registry: Registry
) -> None:
    measures = load_measures(db.session, W13, W14, association_id=scene.demo)
    week13 = values(registry, measures, [W13], scene.demo, ALL, "week")
    assert week13["contacts"] == 1
    assert week13["night_share"] == 1
    assert week13["patrols"] == 1
    assert week13["patrol_hours"] == 4  # not 5: the clocks went forward that night


def test_zones_of_one_association(scene: Scene, registry: Registry) -> None:
    measures = load_measures(db.session, W14, W14, association_id=scene.demo)
    stalingrad = values(registry, measures, [W14], scene.demo, scene.stalingrad, "week")
    pantin = values(registry, measures, [W14], scene.demo, scene.pantin, "week")
    assert (stalingrad["contacts"], stalingrad["people_distinct"], stalingrad["people_new"]) == (
        3,
        1,
        1,
    )
    # Zo was already met in Pantin; the anonymous first contact is new.
    assert (pantin["contacts"], pantin["people_distinct"], pantin["people_new"]) == (2, 1, 1)


def test_across_associations_a_person_counts_once(scene: Scene, registry: Registry) -> None:
    measures = load_measures(db.session, W13, W14, association_id=None)
    region = values(registry, measures, [W14], ALL, ALL, "week")
    assert region["contacts"] == 7
    assert region["people_distinct"] == 3  # Éli (met by both), Zo, Ana
    assert region["people_new"] == 3  # Éli, Ana, the anonymous first contact
    assert region["women_share"] == 0.5
    assert region["night_share"] == pytest.approx(4 / 7)  # 06:59 is still night
    assert region["referral_completion_rate"] == 0.5
    other = values(registry, measures, [W14], scene.other, ALL, "week")
    assert (other["contacts"], other["people_distinct"], other["people_new"]) == (2, 2, 2)
    stalingrad = values(registry, measures, [W14], ALL, scene.stalingrad, "week")
    assert (stalingrad["contacts"], stalingrad["people_distinct"]) == (4, 1)


def test_distinct_people_over_longer_periods(scene: Scene, registry: Registry) -> None:
    measures = load_measures(db.session, W13, W14, association_id=None)

    def people(period_weeks: list[str], kind: str, association: int = ALL) -> float | None:
        sums = measures.sums(period_weeks, association, ALL, kind)
        return registry["people_distinct"].value(sums)

    april, march = month_period(2026, 4), month_period(2026, 3)
    assert W14 in april.weeks and W13 in march.weeks and W14 not in march.weeks
    assert people(april.weeks, "month") == 3
    assert people(quarter_period(2026, 1).weeks, "quarter") == 1  # Zo
    assert people(ytd_period(W14).weeks, "ytd") == 3  # Zo counted once over two weeks
    assert people(ytd_period(W14).weeks, "ytd", scene.demo) == 2
    assert people([W13, W14], "plan", scene.demo) == 2


def test_dashboard_beside_the_previous_week(scene: Scene, registry: Registry) -> None:
    association = db.session.get(Association, scene.demo)
    assert association is not None
    data = dashboard(db.session, association, W14)
    figures = {figure.indicator.code: figure for figure in data.headline}
    assert (figures["contacts"].value, figures["contacts"].previous) == (5, 1)
    assert data.trend_weeks[-1] == W14 and len(data.trend_weeks) == 12
    assert data.trends["contacts"][-2:] == [1, 5]
    assert dict(referral_statuses(db.session, scene.demo, W14)) == {
        "attended": 1,
        "proposed": 1,
        "accepted": 1,
    }
    zones = {row.zone.code: row.values for row in data.zones}
    assert zones["pantin"]["contacts"] == 2
