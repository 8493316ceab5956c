"""The weekly roll-up always equals the computation from the raw rows.

Random writes (inserts, ORM and bulk SQL updates, deletes, referral status changes)
mark weeks stale through the database triggers; after `refresh`, every stored value
must equal an independent computation in plain Python from the raw rows.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta

from flask import Flask, current_app
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select, update

from config import Settings, get_settings
from outreach.clock import is_night, iso_week_of
from outreach.extensions import db
from outreach.models import (
    ALL,
    Association,
    Contact,
    ContactMaterial,
    ContactNeed,
    Referral,
    RollupStale,
    RollupWeek,
    User,
    WeeklyPerson,
    WeeklyRollup,
)
from outreach.pseudonyms import normalise_code, pseudonymise
from outreach.reports.cellkey import KEY_SPACE, contact_record_key, person_record_key
from outreach.reports.periods import month_start_week, quarter_start_week, year_start_week
from outreach.reports.rollup import rebuild_all, refresh

from .conftest import World
from .reports_fixtures import add_contact, paris

# Wednesdays at noon across month, quarter and year ends.
WHEN = [
    paris(2025, 12, 24, 12),  # 2025-W52
    paris(2025, 12, 31, 12),  # 2026-W01 (its Thursday is in 2026)
    paris(2026, 1, 28, 12),  # 2026-W05, January
    paris(2026, 2, 4, 12),  # 2026-W06, February
    paris(2026, 3, 25, 12),  # 2026-W13, Q1
    paris(2026, 4, 1, 12),  # 2026-W14, Q2
]
CODES = ["Éli 1990", "eli-1990", "Zo 1985", "Ana 2000", None]
ZONES = ["stalingrad", "pantin"]

Key = tuple[str, int, int, str]


def expected_rollup() -> dict[Key, tuple[int, int]]:
    """The measures and their record key sums, computed from scratch from the raw rows."""
    master_key = get_settings(current_app).pseudonym_key
    contacts = db.session.scalars(select(Contact)).all()
    values: Counter[Key] = Counter()
    keys: Counter[Key] = Counter()
    regional: dict[str, str] = {}
    present: dict[tuple[int, int, str], set[str]] = defaultdict(set)  # (a, z, pseudonym) -> weeks
    for contact in contacts:
        week = contact.iso_week
        levels = [
            (contact.association_id, contact.zone_id),
            (contact.association_id, ALL),
            (ALL, contact.zone_id),
            (ALL, ALL),
        ]
        record_key = contact_record_key(master_key, str(contact.id))
        if contact.pseudonym_association:
            regional[contact.pseudonym_association] = contact.pseudonym_region
        measures: Counter[str] = Counter(
            contacts=1,
            contacts_anonymous=contact.pseudonym_region is None,
            contacts_women=contact.gender == "female",
            contacts_gender_known=contact.gender != "unknown",
            contacts_night=contact.night,
            first_contacts_anonymous=contact.pseudonym_region is None and contact.first_contact,
        )
        for need in contact.needs:
            measures[f"need.{need.need_code}"] += 1
        for referral in contact.referrals:
            measures[f"referral.{referral.destination_code}"] += 1
            measures["referrals"] += 1
            measures["referrals_accompanied"] += referral.accompanied
            measures["referrals_attended"] += referral.status == "attended"
        # Records counted, each adding its key: a contact, a need, a referral; for material,
        # the contact that received it (once, whatever the quantity).
        counted = Counter(measures)
        for material in contact.materials:
            measures[f"material.{material.material_code}"] += material.quantity
            counted[f"material.{material.material_code}"] += material.quantity > 0
        for association_id, zone in levels:
            for measure, value in measures.items():
                values[week, association_id, zone, measure] += value
                keys[week, association_id, zone, measure] += record_key * counted[measure]
            pseudonym = (
                contact.pseudonym_association if association_id != ALL else contact.pseudonym_region
            )
            if pseudonym:
                present[association_id, zone, pseudonym].add(week)
    for (association_id, zone, pseudonym), weeks in present.items():
        region = pseudonym if association_id == ALL else regional[pseudonym]
        person_key = person_record_key(master_key, region)
        for week in weeks:
            earlier = [other for other in weeks if other < week]

            def first_since(start: str | None, earlier: list[str] = earlier) -> bool:
                return not any(start is None or other >= start for other in earlier)

            values[week, association_id, zone, "people"] += 1
            values[week, association_id, zone, "people_first_month"] += first_since(
                month_start_week(week)
            )
            values[week, association_id, zone, "people_first_quarter"] += first_since(
                quarter_start_week(week)
            )
            values[week, association_id, zone, "people_first_year"] += first_since(
                year_start_week(week)
            )
            values[week, association_id, zone, "people_first_ever"] += first_since(None)
            for measure, first in (
                ("people", True),
                ("people_first_month", first_since(month_start_week(week))),
                ("people_first_quarter", first_since(quarter_start_week(week))),
                ("people_first_year", first_since(year_start_week(week))),
                ("people_first_ever", first_since(None)),
            ):
                keys[week, association_id, zone, measure] += person_key * first
    return {key: (value, keys[key] % KEY_SPACE) for key, value in values.items() if value}


def stored_rollup() -> dict[Key, tuple[int, int]]:
    return {
        (row.iso_week, row.association_id, row.zone_id, row.measure): (
            int(row.value),
            row.key_sum,
        )
        for row in db.session.scalars(select(WeeklyRollup))
    }


operation = st.one_of(
    st.tuples(
        st.just("add"),
        st.integers(0, len(WHEN) - 1),
        st.booleans(),  # which association
        st.sampled_from(ZONES),
        st.sampled_from(CODES),
        st.sampled_from(["female", "male", "unknown"]),
        st.booleans(),  # first contact
        st.integers(0, 23),  # hour
    ),
    st.tuples(st.just("delete"), st.integers(0, 50)),
    st.tuples(st.just("move"), st.integers(0, 50), st.integers(0, len(WHEN) - 1)),
    st.tuples(st.just("bulk_move"), st.integers(0, 50), st.integers(0, len(WHEN) - 1)),
    st.tuples(st.just("recode"), st.integers(0, 50), st.sampled_from(CODES)),
    st.tuples(st.just("attended"), st.integers(0, 50)),
    st.tuples(st.just("drop_need"), st.integers(0, 50)),
)


def apply(operation: tuple, world: World, settings: Settings) -> None:  # type: ignore[type-arg]
    session = db.session
    contacts = session.scalars(select(Contact).order_by(Contact.id)).all()
    kind, *args = operation
    if kind == "add":
        when_index, other, zone, code, gender, first, hour = args
        association = session.get(Association, world.other.id if other else world.demo.id)
        author = session.get(User, world.id_of("other_worker" if other else "worker"))
        assert association and author
        add_contact(
            session,
            settings,
            association,
            author,
            WHEN[when_index].replace(hour=hour),
            zone,
            code=code,
            gender=gender,
            first_contact=first,
            needs=["shelter", "food"][: hour % 3],
            materials={"kit_base": hour % 4} if hour % 4 else {},
            referrals=[("csapa", hour % 2 == 0, "proposed")] if hour % 5 else [],
        )
        return
    if not contacts:
        return
    contact = contacts[args[0] % len(contacts)]
    if kind == "delete":
        session.delete(contact)
    elif kind == "move":
        when = WHEN[args[1]] + timedelta(hours=9)  # 21:00: night
        contact.occurred_at, contact.iso_week, contact.night = (
            when,
            iso_week_of(when),
            is_night(when),
        )
    elif kind == "bulk_move":  # a bulk SQL statement, as a purge or a fix-up script would
        session.execute(
            update(Contact)
            .where(Contact.id == contact.id)
            .values(iso_week=iso_week_of(WHEN[args[1]]))
        )
    elif kind == "recode":
        code = args[1]
        association = session.get(Association, contact.association_id)
        assert association
        pseudonyms = (
            pseudonymise(settings.pseudonym_key, association.slug, normalise_code(code))
            if code
            else None
        )
        contact.pseudonym_association = pseudonyms.association if pseudonyms else None
        contact.pseudonym_region = pseudonyms.region if pseudonyms else None
    elif kind == "attended":
        session.execute(
            update(Referral).where(Referral.contact_id == contact.id).values(status="attended")
        )
    elif kind == "drop_need":
        session.execute(delete(ContactNeed).where(ContactNeed.contact_id == contact.id))
    session.flush()


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(batches=st.lists(st.lists(operation, min_size=1, max_size=6), min_size=1, max_size=4))
def test_rollup_equals_the_raw_rows_after_any_writes(
    app: Flask,
    world: World,
    settings: Settings,
    batches: list[list[tuple]],  # type: ignore[type-arg]
) -> None:
    with app.app_context():
        for table in (Contact, WeeklyRollup, WeeklyPerson, RollupStale):
            db.session.execute(delete(table))
        db.session.commit()
        for batch in batches:
            for step in batch:
                apply(step, world, settings)
            db.session.commit()
            refresh(db.session)
            db.session.commit()
            assert stored_rollup() == expected_rollup()
        assert db.session.scalar(select(func.count()).select_from(RollupStale)) == 0


def test_a_late_earlier_contact_makes_later_weeks_of_that_person_stale(
    app: Flask, world: World, settings: Settings
) -> None:
    with app.app_context():
        demo = db.session.get(Association, world.demo.id)
        worker = db.session.get(User, world.id_of("worker"))
        assert demo and worker
        add_contact(db.session, settings, demo, worker, WHEN[5], code="Zo 1985")
        db.session.commit()
        refresh(db.session)
        db.session.commit()
        new_in = {"2026-W14": 1}
        assert _people_new(demo.id) == new_in
        # Synced late from a phone: Zo had been met weeks before.
        add_contact(db.session, settings, demo, worker, WHEN[2], code="ZO-1985")
        db.session.commit()
        stale = set(db.session.scalars(select(RollupStale.iso_week)))
        assert stale == {"2026-W05", "2026-W14"}
        refresh(db.session)
        db.session.commit()
        assert _people_new(demo.id) == {"2026-W05": 1}
        assert stored_rollup() == expected_rollup()


def write_contacts_of_when(world: World, settings: Settings) -> None:
    """One contact of the demo association at each moment of WHEN, codes in turn."""
    demo = db.session.get(Association, world.demo.id)
    worker = db.session.get(User, world.id_of("worker"))
    assert demo and worker
    for index, when in enumerate(WHEN):
        add_contact(db.session, settings, demo, worker, when, code=CODES[index % len(CODES)])
    db.session.commit()


def test_rebuild_all_equals_the_incremental_roll_up(
    app: Flask, world: World, settings: Settings
) -> None:
    with app.app_context():
        write_contacts_of_when(world, settings)
        refresh(db.session)
        incremental = stored_rollup()
        assert len(rebuild_all(db.session)) == len({iso_week_of(when) for when in WHEN})
        assert stored_rollup() == incremental == expected_rollup()


def test_the_rebuild_command_brings_back_a_lost_roll_up(
    app: Flask, world: World, settings: Settings
) -> None:
    """After a restore or a rollback that lost the roll-up (and its marks), the operator's
    command recomputes it from the contacts."""
    with app.app_context():
        write_contacts_of_when(world, settings)
        refresh(db.session)
        db.session.commit()
        before = stored_rollup()
        db.session.execute(delete(WeeklyRollup))
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["outreach", "rebuild-rollup"])
    assert result.exit_code == 0, result.output
    assert f"{len({iso_week_of(when) for when in WHEN})} weeks recomputed" in result.output
    with app.app_context():
        assert stored_rollup() == before == expected_rollup()


def _people_new(association_id: int) -> dict[str, int]:
    rows = db.session.execute(
        select(WeeklyRollup.iso_week, WeeklyRollup.value).where(
            WeeklyRollup.association_id == association_id,
            WeeklyRollup.zone_id == ALL,
            WeeklyRollup.measure == "people_first_ever",
        )
    )
    return {week: int(value) for week, value in rows}


def test_material_quantities_are_summed(app: Flask, world: World, settings: Settings) -> None:
    with app.app_context():
        demo = db.session.get(Association, world.demo.id)
        worker = db.session.get(User, world.id_of("worker"))
        assert demo and worker
        for quantity in (2, 3):
            add_contact(db.session, settings, demo, worker, WHEN[0], materials={"filter": quantity})
        db.session.commit()
        refresh(db.session)
        assert stored_rollup()["2025-W52", ALL, ALL, "material.filter"][0] == 5
        assert db.session.scalar(select(func.sum(ContactMaterial.quantity))) == 5


def test_one_person_met_every_week_by_both_associations(
    app: Flask, world: World, settings: Settings
) -> None:
    """New in the month, quarter, year or ever: each boundary of WHEN is crossed."""
    with app.app_context():
        for association_id, author_key in (
            (world.demo.id, "worker"),
            (world.other.id, "other_worker"),
        ):
            association = db.session.get(Association, association_id)
            author = db.session.get(User, world.id_of(author_key))
            assert association and author
            for index, when in enumerate(WHEN):
                add_contact(
                    db.session,
                    settings,
                    association,
                    author,
                    when,
                    ZONES[index % 2],
                    code="Éli 1990",
                )
        db.session.commit()
        refresh(db.session)
        stored = stored_rollup()
        assert stored == expected_rollup()
        firsts = {
            measure: [
                stored.get((iso_week_of(when), ALL, ALL, measure), (0, 0))[0] for when in WHEN
            ]
            for measure in ("people_first_month", "people_first_quarter", "people_first_year")
        }
        assert firsts == {
            "people_first_month": [1, 1, 0, 1, 1, 1],
            "people_first_quarter": [1, 1, 0, 0, 0, 1],
            "people_first_year": [1, 1, 0, 0, 0, 0],
        }


def test_a_reader_of_earlier_weeks_leaves_later_stale_weeks_alone(
    app: Flask, world: World, settings: Settings
) -> None:
    with app.app_context():
        demo = db.session.get(Association, world.demo.id)
        worker = db.session.get(User, world.id_of("worker"))
        assert demo and worker
        for when in (WHEN[2], WHEN[5]):
            add_contact(db.session, settings, demo, worker, when, code="Ana 2000")
        db.session.commit()
        assert refresh(db.session, up_to="2026-W06") == ["2026-W05"]
        assert set(db.session.scalars(select(RollupStale.iso_week))) == {"2026-W14"}
        assert refresh(db.session) == ["2026-W14"]
        assert stored_rollup() == expected_rollup()


def test_each_recomputation_gives_the_week_a_new_version(
    app: Flask, world: World, settings: Settings
) -> None:
    with app.app_context():
        demo = db.session.get(Association, world.demo.id)
        worker = db.session.get(User, world.id_of("worker"))
        assert demo and worker
        versions = []
        for _ in range(3):
            add_contact(db.session, settings, demo, worker, WHEN[0])
            db.session.commit()
            refresh(db.session)
            versions.append(db.session.get(RollupWeek, "2025-W52").version)  # type: ignore[union-attr]
        assert len(set(versions)) == 3
