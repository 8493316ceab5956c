"""Helpers for the report tests: contacts and patrols written straight through the ORM.

Contacts carry what the capture stores (keyed pseudonyms of the normalised code, Paris
ISO week, night flag), computed with the same functions, so the reports see real rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Settings
from outreach.clock import PARIS, is_night, iso_week_of
from outreach.extensions import db
from outreach.models import (
    Association,
    Contact,
    ContactMaterial,
    ContactNeed,
    Patrol,
    PatrolMember,
    Referral,
    ReferralStatusChange,
    User,
    Zone,
)
from outreach.pseudonyms import normalise_code, pseudonymise
from outreach.reports.indicators import Registry
from outreach.reports.services import load_registry

from .conftest import World


def paris(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """An aware time given on a Paris wall clock (DST applied by zoneinfo)."""
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


def zone_id(session: Session, code: str) -> int:
    return session.scalars(select(Zone.id).where(Zone.code == code)).one()


def add_contact(
    session: Session,
    settings: Settings,
    association: Association,
    author: User,
    when: datetime,
    zone: str = "stalingrad",
    *,
    code: str | None = None,
    gender: str = "unknown",
    age_band: str = "unknown",
    housing: str = "unknown",
    first_contact: bool = False,
    needs: Iterable[str] = (),
    materials: Mapping[str, int] | None = None,
    referrals: Iterable[tuple[str, bool, str]] = (),
    patrol: Patrol | None = None,
) -> Contact:
    """One contact; referrals as (destination, accompanied, current status)."""
    pseudonyms = (
        pseudonymise(settings.pseudonym_key, association.slug, normalise_code(code))
        if code
        else None
    )
    contact = Contact(
        client_id=uuid.uuid4(),
        association_id=association.id,
        author_id=author.id,
        patrol_id=patrol.id if patrol else None,
        occurred_at=when,
        iso_week=iso_week_of(when),
        night=is_night(when),
        zone_id=zone_id(session, zone),
        pseudonym_association=pseudonyms.association if pseudonyms else None,
        pseudonym_region=pseudonyms.region if pseudonyms else None,
        gender=gender,
        age_band=age_band,
        housing=housing,
        first_contact=first_contact,
        body_digest="0" * 64,
        created_at=when,
        updated_at=when,
        needs=[ContactNeed(need_code=need) for need in needs],
        materials=[
            ContactMaterial(material_code=material, quantity=quantity)
            for material, quantity in (materials or {}).items()
        ],
        referrals=[
            Referral(
                destination_code=destination,
                accompanied=accompanied,
                status=status,
                status_changed_at=when,
                history=[ReferralStatusChange(status=status, changed_at=when)],
            )
            for destination, accompanied, status in referrals
        ],
    )
    session.add(contact)
    session.flush()
    return contact


def add_patrol(
    session: Session,
    association: Association,
    starter: User,
    start: datetime,
    end: datetime | None,
    zone: str = "stalingrad",
) -> Patrol:
    patrol = Patrol(
        association_id=association.id,
        zone_id=zone_id(session, zone),
        started_by_id=starter.id,
        started_at=start,
        ended_at=end,
        members=[PatrolMember(user_id=starter.id)],
    )
    session.add(patrol)
    session.flush()
    return patrol


W13, W14 = "2026-W13", "2026-W14"


@dataclass(frozen=True)
class Scene:
    """Ids only: no app context stays open (the test client would reuse it)."""

    demo: int
    other: int
    stalingrad: int
    pantin: int
    saint_denis: int


@pytest.fixture(name="scene")
def scene_fixture(app: Flask, world: World, settings: Settings) -> Scene:
    with app.app_context():
        session = db.session
        demo = session.get(Association, world.demo.id)
        other = session.get(Association, world.other.id)
        worker = session.get(User, world.id_of("worker"))
        other_worker = session.get(User, world.id_of("other_worker"))
        assert demo and other and worker and other_worker

        def contact(association: Association, *args: object, **kwargs: object) -> None:
            author = worker if association is demo else other_worker
            add_contact(session, settings, association, author, *args, **kwargs)  # type: ignore[arg-type]

        # Week 13: Zo met once by demo, late on the Sunday of the DST change (CEST).
        contact(demo, paris(2026, 3, 29, 23, 30), "pantin", code="Zo 1985", gender="male")
        # A patrol across the change: 23:00 CET to 04:00 CEST is 4 real hours, in W13.
        add_patrol(session, demo, worker, paris(2026, 3, 28, 23), paris(2026, 3, 29, 4))
        # Week 14, demo.
        contact(
            demo,
            paris(2026, 3, 30, 0, 30),  # Monday in Paris, still Sunday 22:30 in UTC
            code="Éli 1990",
            gender="female",
            needs=["shelter"],
            materials={"kit_base": 2},
            referrals=[("shelter_115", True, "attended")],
        )
        contact(
            demo,
            paris(2026, 3, 30, 7, 0),
            code="eli-1990",
            gender="female",
            needs=["food"],
            referrals=[("csapa", False, "proposed")],
        )
        contact(
            demo,
            paris(2026, 3, 31, 19, 59),
            "pantin",
            first_contact=True,
            materials={"filter": 4},
        )
        contact(
            demo,
            paris(2026, 3, 31, 20, 0),
            "pantin",
            code="Zo 1985",
            gender="male",
            referrals=[("hsa", True, "accepted")],
        )
        contact(demo, paris(2026, 4, 5, 23, 59), gender="male")
        add_patrol(session, demo, worker, paris(2026, 3, 30, 0), paris(2026, 3, 30, 3))
        # Week 14, the other association: the same Éli, and Ana.
        contact(
            other,
            paris(2026, 4, 1, 6, 59),
            code="ELI 1990",
            gender="female",
            referrals=[("shelter_115", False, "attended")],
        )
        contact(other, paris(2026, 4, 2, 12, 0), "saint_denis", code="Ana 2000", gender="other")
        session.commit()
        return Scene(
            demo.id,
            other.id,
            zone_id(session, "stalingrad"),
            zone_id(session, "pantin"),
            zone_id(session, "saint_denis"),
        )


@pytest.fixture(name="registry")
def registry_fixture(app: Flask, scene: Scene) -> Iterator[Registry]:
    """An app context for service-level tests (never with the test client), and the registry."""
    with app.app_context():
        yield load_registry(db.session)
