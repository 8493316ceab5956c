"""Patrol and contact services, without HTTP, on the test database."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import IntegrityError

from config import Settings
from outreach.capture.services import (
    Outcome,
    PatrolError,
    PatrolReport,
    can_edit,
    end_patrol,
    get_contact,
    load_capture_options,
    open_patrol_of,
    record_contact,
    record_contacts,
    start_patrol,
    update_contact,
)
from outreach.capture.validation import ContactDraft, validate_contact
from outreach.clock import is_night, iso_week_of
from outreach.extensions import db
from outreach.models import (
    Association,
    Contact,
    ContactMaterial,
    Patrol,
    Referral,
    User,
    Zone,
)

from .conftest import World

NOW = datetime.now(UTC).replace(second=0, microsecond=0)


@pytest.fixture
def ctx(app: Flask, world: World) -> Iterator[World]:
    with app.app_context():
        yield world


def draft_of(association_id: int, **changes: Any) -> ContactDraft:
    body: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "occurred_at": (NOW - timedelta(minutes=5)).isoformat(),
        "zone": "stalingrad",
        "person_code": "Éli 1990",
        "gender": "female",
        "needs": ["shelter"],
        "materials": {"kit_base": 2},
        "referrals": [{"destination": "shelter_115", "accompanied": True}],
    }
    body.update(changes)
    options = load_capture_options(db.session, association_id, [body.get("patrol_id")])
    draft, errors = validate_contact(body, options, NOW)
    assert draft is not None, errors
    return draft


def record(world: World, draft: ContactDraft, settings: Settings, key: str = "worker") -> Any:
    user = db.session.get(User, world.id_of(key))
    assert user is not None and user.association_id is not None
    association = db.session.get(Association, user.association_id)
    assert association is not None
    return record_contact(db.session, draft, user, association, settings.pseudonym_key, NOW)


def run_together(app: Flask, *bodies: Callable[[], None]) -> list[BaseException]:
    """Each body in its own thread, app context and session, all started at once; returns
    what they raised (a thread's exception would otherwise be lost)."""
    failures: list[BaseException] = []

    def run(body: Callable[[], None]) -> None:
        with app.app_context():
            try:
                body()
            except BaseException as error:  # reported to the caller
                failures.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


def count_contacts() -> int:
    return db.session.scalar(select(func.count(Contact.id))) or 0


def test_new_contact_is_stored_with_pseudonyms_not_the_code(ctx: World, settings: Settings) -> None:
    result = record(ctx, draft_of(ctx.demo.id), settings)
    db.session.commit()
    assert result.outcome is Outcome.CREATED
    contact = db.session.scalars(select(Contact)).one()
    assert len(contact.pseudonym_association or "") == 64
    assert len(contact.pseudonym_region or "") == 64
    assert contact.association_id == ctx.demo.id
    assert [n.need_code for n in contact.needs] == ["shelter"]
    assert [(m.material_code, m.quantity) for m in contact.materials] == [("kit_base", 2)]
    [referral] = contact.referrals
    assert (referral.destination_code, referral.accompanied, referral.status) == (
        "shelter_115",
        True,
        "proposed",
    )
    assert [h.status for h in referral.history] == ["proposed"]
    assert contact.iso_week == iso_week_of(contact.occurred_at)
    assert contact.night == is_night(contact.occurred_at)


def test_the_person_code_is_nowhere_in_the_database(ctx: World, settings: Settings) -> None:
    record(ctx, draft_of(ctx.demo.id, person_code="Zorglub 1977"), settings)
    db.session.commit()
    needles = ("zorglub", "1977")
    inspector = inspect(db.engine)
    for table in inspector.get_table_names():
        for row in db.session.execute(text(f"SELECT * FROM {table}")):  # noqa: S608 (table names from the schema)
            for value in row:
                assert not any(n in str(value).lower() for n in needles), (table, row)


def test_same_id_same_body_is_a_replay(ctx: World, settings: Settings) -> None:
    draft = draft_of(ctx.demo.id)
    assert record(ctx, draft, settings).outcome is Outcome.CREATED
    again = draft_of(ctx.demo.id, id=str(draft.client_id), person_code="ELI-1990")
    assert record(ctx, again, settings).outcome is Outcome.UNCHANGED
    db.session.commit()
    assert count_contacts() == 1


def test_same_id_other_body_is_a_conflict(ctx: World, settings: Settings) -> None:
    draft = draft_of(ctx.demo.id)
    record(ctx, draft, settings)
    changed = draft_of(ctx.demo.id, id=str(draft.client_id), gender="male")
    result = record(ctx, changed, settings)
    db.session.commit()
    assert result.outcome is Outcome.CONFLICT
    stored = db.session.get(Contact, result.contact_id)
    assert stored is not None and stored.gender == "female"
    assert count_contacts() == 1


def test_another_association_may_use_the_same_id(ctx: World, settings: Settings) -> None:
    draft = draft_of(ctx.demo.id)
    assert record(ctx, draft, settings).outcome is Outcome.CREATED
    other = draft_of(ctx.other.id, id=str(draft.client_id), gender="male")
    assert record(ctx, other, settings, key="other_worker").outcome is Outcome.CREATED
    db.session.commit()
    assert count_contacts() == 2


def test_region_pseudonym_is_shared_but_association_one_is_not(
    ctx: World, settings: Settings
) -> None:
    record(ctx, draft_of(ctx.demo.id, person_code="Éli 1990"), settings)
    record(ctx, draft_of(ctx.other.id, person_code="eli-1990"), settings, key="other_worker")
    db.session.commit()
    demo, other = db.session.scalars(select(Contact).order_by(Contact.association_id)).all()
    assert demo.pseudonym_region == other.pseudonym_region
    assert demo.pseudonym_association != other.pseudonym_association


def test_eight_threads_sending_the_same_new_id_make_one_row(
    app: Flask, world: World, settings: Settings
) -> None:
    with app.app_context():
        draft = draft_of(world.demo.id)
    outcomes: list[Outcome] = []
    barrier = threading.Barrier(8)

    def send() -> None:
        barrier.wait()
        outcomes.append(record(world, draft, settings).outcome)
        db.session.commit()

    assert run_together(app, *[send] * 8) == []
    assert sorted(o.value for o in outcomes) == ["created"] + ["unchanged"] * 7
    with app.app_context():
        assert count_contacts() == 1


@pytest.mark.parametrize(
    ("local", "night"),
    [
        ("2026-11-20T19:59:00+01:00", False),
        ("2026-11-20T20:00:00+01:00", True),
        ("2026-11-21T06:59:00+01:00", True),
        ("2026-11-21T07:00:00+01:00", False),
        # Summer time: 20:00 in Paris is 18:00 UTC.
        ("2026-07-01T18:00:00+00:00", True),
        ("2026-07-01T04:59:00+00:00", True),
        ("2026-07-01T05:00:00+00:00", False),
    ],
)
def test_night_is_20_to_7_in_paris_time(local: str, night: bool) -> None:
    assert is_night(datetime.fromisoformat(local)) is night


@pytest.mark.parametrize(
    ("moment", "week"),
    [
        # Sunday 23:30 in Paris is still week 47; the same instant an hour later is Monday.
        ("2026-11-22T23:30:00+01:00", "2026-W47"),
        ("2026-11-22T23:30:00+00:00", "2026-W48"),  # Monday 00:30 in Paris
        ("2026-03-29T01:30:00+00:00", "2026-W13"),  # the night summer time starts
        ("2026-10-25T00:30:00+00:00", "2026-W43"),  # the night winter time starts
        ("2027-01-01T12:00:00+01:00", "2026-W53"),  # ISO year differs from calendar year
    ],
)
def test_iso_week_is_taken_in_paris_time(moment: str, week: str) -> None:
    assert iso_week_of(datetime.fromisoformat(moment)) == week


def test_database_refuses_what_validation_would(ctx: World, settings: Settings) -> None:
    record(ctx, draft_of(ctx.demo.id), settings)
    db.session.commit()
    contact_id = db.session.scalars(select(Contact.id)).one()
    for statement in (
        "UPDATE contacts SET gender = 'robot'",
        "UPDATE contacts SET housing = 'castle'",
        "UPDATE contact_materials SET quantity = 1000",
        "UPDATE contact_materials SET quantity = -1",
        "UPDATE referrals SET status = 'lost'",
        "UPDATE contacts SET zone_id = 999999",
        f"INSERT INTO contact_needs (contact_id, need_code) VALUES ({contact_id}, 'unicorn')",  # noqa: S608
        "UPDATE users SET role = 'god'",
        "UPDATE users SET association_id = NULL WHERE role = 'worker'",
    ):
        with pytest.raises(IntegrityError), db.session.begin_nested():
            db.session.execute(text(statement))
    db.session.rollback()


def _patrol(world: World, settings: Settings, key: str = "worker") -> Patrol:
    user = db.session.get(User, world.id_of(key))
    assert user is not None and user.association is not None
    zone = db.session.scalars(select(Zone).where(Zone.code == "stalingrad")).one()
    return start_patrol(
        db.session, user.association, zone, user, [world.id_of("worker2")], NOW - timedelta(hours=1)
    )


def test_start_patrol_keeps_only_members_of_the_association(ctx: World, settings: Settings) -> None:
    user = db.session.get(User, ctx.id_of("worker"))
    assert user is not None and user.association is not None
    zone = db.session.scalars(select(Zone)).first()
    assert zone is not None
    patrol = start_patrol(
        db.session,
        user.association,
        zone,
        user,
        [ctx.id_of("worker2"), ctx.id_of("other_worker"), ctx.id_of("funder")],
        NOW,
    )
    assert {m.user_id for m in patrol.members} == {ctx.id_of("worker"), ctx.id_of("worker2")}
    assert open_patrol_of(db.session, user) == patrol


def test_contact_editable_by_author_until_patrol_ends(ctx: World, settings: Settings) -> None:
    patrol = _patrol(ctx, settings)
    draft = draft_of(ctx.demo.id, patrol_id=patrol.id)
    contact = db.session.get(Contact, record(ctx, draft, settings).contact_id)
    assert contact is not None
    author = db.session.get(User, ctx.id_of("worker"))
    colleague = db.session.get(User, ctx.id_of("worker2"))
    assert author is not None and colleague is not None and author.association is not None
    assert can_edit(contact, author) and not can_edit(contact, colleague)

    referral = contact.referrals[0]
    referral.status = "accepted"
    edited = draft_of(
        ctx.demo.id,
        id=str(draft.client_id),
        patrol_id=patrol.id,
        person_code="",
        gender="male",
        materials={"filter": 3},
    )
    update_contact(
        db.session, contact, edited, author, author.association, settings.pseudonym_key, NOW
    )
    db.session.commit()
    db.session.refresh(contact)
    assert contact.gender == "male"
    assert [(m.material_code, m.quantity) for m in contact.materials] == [("filter", 3)]
    assert contact.pseudonym_association is not None, "an empty code keeps the pseudonym"
    assert contact.referrals[0].status == "accepted", "editing keeps a referral's progress"
    assert db.session.scalar(select(func.count()).select_from(ContactMaterial)) == 1
    assert db.session.scalar(select(func.count()).select_from(Referral)) == 1

    end_patrol(db.session, patrol, PatrolReport(2, "calm", 10, "Site calme."), NOW)
    assert not can_edit(contact, author)
    with pytest.raises(PatrolError):
        update_contact(
            db.session, contact, edited, author, author.association, settings.pseudonym_key, NOW
        )
    with pytest.raises(PatrolError):
        end_patrol(db.session, patrol, PatrolReport(0, "calm", 0, ""), NOW)
    assert patrol.atmosphere == "calm" and patrol.people_seen_not_met == 2


def test_two_edits_of_one_contact_at_once_both_go_through(
    app: Flask, world: World, settings: Settings
) -> None:
    """The second edit waits for the first (the row lock of get_contact(for_update=True);
    SQLite serialises whole requests), then applies to what the first wrote."""
    with app.app_context():
        patrol = _patrol(world, settings)
        draft = draft_of(world.demo.id, patrol_id=patrol.id)
        contact_id = record(world, draft, settings).contact_id
        db.session.commit()
        edits = [
            draft_of(
                world.demo.id,
                id=str(draft.client_id),
                patrol_id=patrol.id,
                person_code="",
                materials={"filter": quantity},
            )
            for quantity in (3, 5)
        ]
    first_loaded, second_loaded = threading.Event(), threading.Event()

    def edit(index: int) -> None:
        if index == 1:
            first_loaded.wait(5)
        author = db.session.get(User, world.id_of("worker"))
        assert author is not None and author.association is not None
        contact = get_contact(db.session, world.demo.id, contact_id, for_update=True)
        assert contact is not None
        _ = contact.needs, contact.materials, contact.referrals
        if index == 0:
            first_loaded.set()
            # Without the lock the second edit loads the same children meanwhile.
            second_loaded.wait(1)
        else:
            second_loaded.set()
        update_contact(
            db.session,
            contact,
            edits[index],
            author,
            author.association,
            settings.pseudonym_key,
            NOW,
        )
        db.session.commit()

    assert run_together(app, partial(edit, 0), partial(edit, 1)) == []
    with app.app_context():
        materials = db.session.execute(
            select(ContactMaterial.material_code, ContactMaterial.quantity).where(
                ContactMaterial.contact_id == contact_id
            )
        ).all()
    assert [tuple(row) for row in materials] == [("filter", 5)], "the second edit, applied last"


def test_two_overlapping_batches_in_opposite_orders_do_not_deadlock(
    app: Flask, world: World, settings: Settings
) -> None:
    """Two phones' outboxes holding the same contacts in opposite orders, sent at once
    (found by review: PostgreSQL deadlocked on the unique index before contacts were
    inserted in client-id order). Timing-dependent: without the ordering, this failed in
    one of two runs on PostgreSQL."""
    with app.app_context():
        author = db.session.get(User, world.id_of("worker"))
        assert author is not None and author.association is not None
        association = author.association
        db.session.expunge_all()  # loaded once: the threads' first statement is the insert
    for _round in range(10):
        with app.app_context():
            drafts = [draft_of(world.demo.id) for _ in range(500)]
        barrier = threading.Barrier(2)

        def send(batch: list[ContactDraft], barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            record_contacts(db.session, batch, author, association, settings.pseudonym_key, NOW)
            db.session.commit()

        failures = run_together(app, partial(send, drafts), partial(send, drafts[::-1]))
        assert failures == [], f"round {_round}"
    with app.app_context():
        assert count_contacts() == 10 * 500
