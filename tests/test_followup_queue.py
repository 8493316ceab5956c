"""The referral queue: who sees what, overdue computation, status update and its audit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from config import Settings
from outreach.clock import now_utc
from outreach.extensions import db
from outreach.followup.queue import OverdueDelays, open_referrals, overdue_count
from outreach.followup.services import (
    TransitionError,
    person_reference,
    update_referral_status,
)
from outreach.models import AuditEntry, Referral, User
from outreach.pseudonyms import normalise_code, pseudonymise

from .conftest import AuthActions, World, text_of
from .reports_fixtures import add_contact, paris

NOW = paris(2026, 3, 20, 22)
WEEK = OverdueDelays(7, {})


@pytest.fixture
def ctx(app: Flask, world: World) -> Iterator[World]:
    with app.app_context():
        yield world


def referral_of(contact_referrals: list[Referral]) -> int:
    [referral] = contact_referrals
    return referral.id


def make(
    world: World,
    settings: Settings,
    days_ago: float,
    destination: str = "shelter_115",
    status: str = "proposed",
    *,
    association: str = "demo",
    code: str | None = "eli-1990",
    now: datetime = NOW,
) -> int:
    owner = world.demo if association == "demo" else world.other
    author = world.users["worker" if association == "demo" else "other_worker"]
    contact = add_contact(
        db.session(),
        settings,
        owner,
        author,
        now - timedelta(days=days_ago),
        code=code,
        referrals=[(destination, False, status)],
    )
    return referral_of(contact.referrals)


def test_each_association_sees_only_its_own_open_referrals(ctx: World, settings: Settings) -> None:
    mine = make(ctx, settings, 3)
    make(ctx, settings, 3, status="attended")  # closed: not in the queue
    make(ctx, settings, 3, status="refused_by_person")
    theirs = make(ctx, settings, 30, association="other")
    db.session.commit()

    assert [i.referral_id for i in open_referrals(db.session(), ctx.demo.id, WEEK, NOW)] == [mine]
    assert [i.referral_id for i in open_referrals(db.session(), ctx.other.id, WEEK, NOW)] == [
        theirs
    ]
    assert overdue_count(db.session(), ctx.demo.id, WEEK, NOW) == 0
    assert overdue_count(db.session(), ctx.other.id, WEEK, NOW) == 1


def test_the_person_shows_by_the_follow_up_reference_never_the_code(
    ctx: World, settings: Settings
) -> None:
    make(ctx, settings, 2)
    make(ctx, settings, 1, code=None)
    db.session.commit()
    named, anonymous = open_referrals(db.session(), ctx.demo.id, WEEK, NOW)
    pseudonym = pseudonymise(settings.pseudonym_key, "demo", normalise_code("eli-1990"))
    assert named.reference == person_reference(pseudonym.association)
    assert named.reference is not None and len(named.reference) == 7
    assert named.reference != person_reference(pseudonym.region)
    assert anonymous.reference is None


def test_overdue_after_the_delay_overdue_first_and_per_destination_delays(
    ctx: World, settings: Settings
) -> None:
    fresh = make(ctx, settings, 1)
    just_due = make(ctx, settings, 7)  # exactly 7 days: due
    not_yet = make(ctx, settings, 6.9)
    long_overdue = make(ctx, settings, 20)
    shelter_fast = make(ctx, settings, 3, destination="shelter_115")
    csapa_slow = make(ctx, settings, 10, destination="csapa")
    db.session.commit()

    items = open_referrals(db.session(), ctx.demo.id, WEEK, NOW)
    overdue = [i.referral_id for i in items if i.overdue]
    assert overdue == [long_overdue, csapa_slow, just_due]
    assert [i.referral_id for i in items][3:] == [not_yet, shelter_fast, fresh]
    assert items[0].age_days == 20 and items[-1].age_days == 1
    assert overdue_count(db.session(), ctx.demo.id, WEEK, NOW) == 3

    custom = OverdueDelays(7, {"shelter_115": 2, "csapa": 14})
    items = open_referrals(db.session(), ctx.demo.id, custom, NOW)
    overdue = {i.referral_id for i in items if i.overdue}
    assert overdue == {long_overdue, just_due, not_yet, shelter_fast}
    assert csapa_slow not in overdue
    assert overdue_count(db.session(), ctx.demo.id, custom, NOW) == 4
    # overdue ones first, then the others by the day they fall due
    flags = [i.overdue for i in items]
    assert flags == sorted(flags, reverse=True)
    assert [i.due_at for i in items] == sorted(i.due_at for i in items)


def test_an_accepted_referral_waits_from_its_acceptance(ctx: World, settings: Settings) -> None:
    referral_id = make(ctx, settings, 10)
    assert overdue_count(db.session(), ctx.demo.id, WEEK, NOW) == 1
    referral = db.session.get(Referral, referral_id)
    worker = db.session.get(User, ctx.id_of("worker"))
    assert referral is not None and worker is not None
    update_referral_status(
        db.session(), referral, "accepted", worker, ctx.demo.id, NOW - timedelta(days=2)
    )
    [item] = open_referrals(db.session(), ctx.demo.id, WEEK, NOW)
    assert (item.status, item.overdue, item.age_days) == ("accepted", False, 10)
    assert item.next_statuses == ("attended", "not_attended", "unknown")
    assert overdue_count(db.session(), ctx.demo.id, WEEK, NOW) == 0
    later = NOW + timedelta(days=5)
    assert overdue_count(db.session(), ctx.demo.id, WEEK, later) == 1
    assert open_referrals(db.session(), ctx.demo.id, WEEK, later)[0].overdue


def test_update_through_the_queue_service_is_audited_and_checked(
    ctx: World, settings: Settings
) -> None:
    referral_id = make(ctx, settings, 10)
    referral = db.session.get(Referral, referral_id)
    worker = db.session.get(User, ctx.id_of("worker"))
    assert referral is not None and worker is not None
    with pytest.raises(TransitionError):
        update_referral_status(db.session(), referral, "attended", worker, ctx.demo.id, NOW)
    update_referral_status(db.session(), referral, "accepted", worker, ctx.demo.id, NOW)
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "referral.status_changed")
    ).one()
    assert entry.actor_id == worker.id and entry.association_id == ctx.demo.id
    assert entry.details == {"referral_id": referral_id, "status": "accepted"}
    assert [h.status for h in referral.history] == ["proposed", "accepted"]


# --------------------------------------------------------------------------- views


def test_queue_page_and_two_step_update(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World, settings: Settings
) -> None:
    with app.app_context():
        referral_id = make(world, settings, 30, now=now_utc())
        theirs = make(world, settings, 30, association="other", destination="csapa", now=now_utc())
        db.session.commit()
    auth.login_as(world, "worker")
    home = text_of(client.get("/patrols"))
    assert "1 orientation à relancer" in home
    page = text_of(client.get("/followup/queue"))
    assert "115 / SIAO" in page and "à relancer" in page and "il y a 30 jours" in page
    assert "CSAPA" not in page  # the other association's referral
    assert "eli" not in page.lower()

    token = auth.page_token("/followup/queue")
    response = client.post(
        f"/followup/queue/referrals/{referral_id}/status",
        data={"csrf_token": token, "status": "accepted"},
    )
    assert response.status_code == 302 and response.location == "/followup/queue"
    assert "Orientation mise à jour : Acceptée." in text_of(client.get(response.location))
    # another association's referral: not found, unchanged
    response = client.post(
        f"/followup/queue/referrals/{theirs}/status",
        data={"csrf_token": token, "status": "accepted"},
    )
    assert response.status_code == 404
    # an impossible move is refused
    response = client.post(
        f"/followup/queue/referrals/{referral_id}/status",
        data={"csrf_token": token, "status": "refused_by_person"},
    )
    assert "pas possible" in text_of(client.get(response.location))
    with app.app_context():
        mine, other = db.session.get(Referral, referral_id), db.session.get(Referral, theirs)
        assert mine is not None and mine.status == "accepted"
        assert other is not None and other.status == "proposed"
        actions = db.session.scalars(
            select(AuditEntry.action).where(AuditEntry.action == "referral.status_changed")
        ).all()
        assert len(actions) == 1


def test_other_association_staff_see_their_own_queue_only(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World, settings: Settings
) -> None:
    with app.app_context():
        make(world, settings, 30, now=now_utc())
        db.session.commit()
    auth.login_as(world, "other_supervisor")
    page = text_of(client.get("/followup/queue"))
    assert "Aucune orientation en cours." in page and "115 / SIAO" not in page


def test_follow_up_page_shows_the_same_reference(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World, settings: Settings
) -> None:
    with app.app_context():
        make(world, settings, 30, now=now_utc())
        db.session.commit()
        [item] = open_referrals(db.session(), world.demo.id, WEEK, NOW)
    auth.login_as(world, "worker")
    token = auth.page_token("/followup")
    client.post("/followup", data={"csrf_token": token, "person_code": "Éli 1990"})
    assert item.reference is not None
    assert item.reference in text_of(client.get("/followup/person"))
    assert item.reference in text_of(client.get("/followup/queue"))
