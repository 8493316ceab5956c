"""Demo data: two associations, the zones of DOMAIN.md, demo accounts and synthetic contacts.

Safe to run twice: what exists is kept; contacts are generated only for an
association that has none yet. Contacts go through the same builder as real
ones (pseudonyms, ISO week, night flag), so the demo shows what the app stores.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from config import Settings

from ..auth.services import check_password_policy, create_user
from ..capture.services import build_contact
from ..capture.validation import ContactDraft, ReferralDraft
from ..clock import PARIS, now_utc, to_minute
from ..models import (
    Association,
    Contact,
    Material,
    Need,
    Patrol,
    PatrolMember,
    Referral,
    ReferralDestination,
    ReferralStatusChange,
    User,
    Zone,
)
from ..pseudonyms import normalise_code

DEFAULT_CONTACTS = 3000
DEFAULT_PASSWORD = "maraude-demo-2026"  # noqa: S105 (demo accounts, printed by make run)
WEEKS = 12

ASSOCIATIONS = (("demo", "Maraude Démo"), ("other", "Autre Association"))

ZONES = (
    ("stalingrad", "Stalingrad", "75"),
    ("jardins_eole", "Jardins d'Éole", "75"),
    ("porte_chapelle", "Porte de la Chapelle", "75"),
    ("porte_aubervilliers", "Porte d'Aubervilliers", "75"),
    ("rosa_parks", "Rosa Parks", "75"),
    ("gare_du_nord", "Gare du Nord", "75"),
    ("saint_denis", "Saint-Denis", "93"),
    ("aubervilliers", "Aubervilliers", "93"),
    ("pantin", "Pantin", "93"),
)


@dataclass(frozen=True, slots=True)
class DemoAccount:
    email: str
    role: str
    name: str
    association: str | None


ACCOUNTS = (
    DemoAccount("worker@demo.test", "worker", "Samira", "demo"),
    DemoAccount("worker2@demo.test", "worker", "Karim", "demo"),
    DemoAccount("worker3@demo.test", "worker", "Léa", "demo"),
    DemoAccount("supervisor@demo.test", "supervisor", "Claire", "demo"),
    DemoAccount("funder@demo.test", "funder", "ARS Île-de-France", None),
    DemoAccount("admin@demo.test", "admin", "Admin plateforme", None),
    DemoAccount("worker@other.test", "worker", "Yanis", "other"),
    DemoAccount("worker2@other.test", "worker", "Inès", "other"),
    DemoAccount("supervisor@other.test", "supervisor", "Nadia", "other"),
)

# Realistic shares for the scene (weights, not facts).
GENDER_WEIGHTS = {"male": 70, "female": 22, "other": 2, "unknown": 6}
AGE_WEIGHTS = {
    "under_18": 1,
    "18_24": 6,
    "25_34": 24,
    "35_44": 34,
    "45_54": 22,
    "55_plus": 8,
    "unknown": 5,
}
HOUSING_WEIGHTS = {
    "street": 55,
    "squat": 12,
    "emergency_shelter": 14,
    "hotel": 9,
    "housed": 4,
    "unknown": 6,
}
NEED_WEIGHTS = {
    "rdr_material": 40,
    "food": 25,
    "hygiene": 12,
    "shelter": 18,
    "rest": 10,
    "somatic_care": 9,
    "mental_health": 5,
    "addiction_treatment": 6,
    "screening": 3,
    "rights": 6,
    "income": 2,
    "legal": 2,
    "other": 2,
}
MATERIAL_RANGES = {
    "kit_base": (1, 3),
    "pipe": (1, 2),
    "mouthpiece": (1, 4),
    "filter": (2, 6),
    "push_stick": (1, 2),
    "healing_cream": (1, 1),
    "injection_kit": (1, 2),
    "syringe": (2, 10),
    "sterile_water": (2, 6),
    "stericup": (1, 4),
    "swab": (2, 6),
    "naloxone": (1, 1),
    "condom": (2, 5),
    "hygiene_kit": (1, 1),
    "food_item": (1, 2),
}
MATERIAL_WEIGHTS = {
    "kit_base": 40,
    "filter": 30,
    "mouthpiece": 25,
    "healing_cream": 12,
    "pipe": 10,
    "push_stick": 8,
    "food_item": 18,
    "condom": 6,
    "hygiene_kit": 5,
    "injection_kit": 4,
    "syringe": 3,
    "sterile_water": 3,
    "stericup": 3,
    "swab": 3,
    "naloxone": 1,
}
DESTINATION_WEIGHTS = {
    "caarud": 20,
    "shelter_115": 18,
    "hsa": 8,
    "rest_area": 14,
    "csapa": 8,
    "hotel_program": 5,
    "hospital_ed": 4,
    "pass": 6,
    "psychiatry": 3,
    "social_services": 7,
    "medical_beds": 2,
    "residential_care": 1,
    "other": 2,
}
ATMOSPHERE_WEIGHTS = {"calm": 60, "tense": 32, "violent": 8}
SITE_OBSERVATIONS = (
    "Site calme, peu de passage.",
    "Présence policière importante en début de tournée.",
    "Beaucoup de matériel usagé près des escaliers.",
    "Nouveau regroupement sous le pont.",
    "Éclairage en panne côté nord.",
    "",
)
# Patrol start hours: day and night (20:00-06:59 counts as night).
START_HOURS = {9: 2, 14: 3, 18: 2, 21: 3, 23: 2}


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def ensure_reference_data(session: Session) -> tuple[dict[str, Association], dict[str, Zone]]:
    associations = {a.slug: a for a in session.scalars(select(Association))}
    for slug, name in ASSOCIATIONS:
        if slug not in associations:
            associations[slug] = Association(slug=slug, name=name)
            session.add(associations[slug])
    zones = {z.code: z for z in session.scalars(select(Zone))}
    for position, (code, name, departement) in enumerate(ZONES):
        if code not in zones:
            zones[code] = Zone(code=code, name=name, departement=departement, position=position)
            session.add(zones[code])
    session.flush()
    return associations, zones


def _ensure_accounts(
    session: Session, settings: Settings, associations: dict[str, Association], password: str
) -> list[str]:
    existing = set(session.scalars(select(User.email)))
    created = []
    for account in ACCOUNTS:
        if account.email in existing:
            continue
        create_user(
            session,
            settings,
            email=account.email,
            role=account.role,
            password=password,
            display_name=account.name,
            association=associations[account.association] if account.association else None,
        )
        created.append(account.email)
    return created


class _Generator:
    def __init__(self, session: Session, settings: Settings, now: datetime, seed: int) -> None:
        self.session = session
        self.settings = settings
        self.now = now
        self.rng = random.Random(seed)  # noqa: S311 (synthetic data, not security)
        self.needs = set(session.scalars(select(Need.code).where(Need.active.is_(True))))
        self.materials = set(
            session.scalars(select(Material.code).where(Material.active.is_(True)))
        )
        self.destinations = set(
            session.scalars(
                select(ReferralDestination.code).where(ReferralDestination.active.is_(True))
            )
        )

    def code_pool(self, size: int, shared: Sequence[str]) -> list[str]:
        letters = "ABCDEFGHIJKLMNOPRSTVYZ"
        own = [
            f"{self.rng.choice(letters)}{self.rng.choice(letters)} {self.rng.randint(1960, 2004)}"
            for _ in range(size - len(shared))
        ]
        return list(shared) + own

    def patrol_window(self) -> tuple[datetime, datetime]:
        while True:
            day = (self.now - timedelta(days=self.rng.randint(0, WEEKS * 7 - 1))).astimezone(PARIS)
            hour = int(_pick(self.rng, {str(h): w for h, w in START_HOURS.items()}))
            start = day.replace(
                hour=hour, minute=self.rng.choice((0, 15, 30)), second=0, microsecond=0
            )
            end = start + timedelta(minutes=self.rng.randint(120, 240))
            if end < self.now:
                return start, end

    def contacts_for(
        self,
        association: Association,
        zones: list[Zone],
        members: list[User],
        count: int,
        codes: list[str],
    ) -> tuple[int, int]:
        code_weights = [1 / (rank + 1) ** 1.1 for rank in range(len(codes))]
        seen: set[str] = set()
        made = patrols = 0
        while made < count:
            start, end = self.patrol_window()
            zone = self.rng.choice(zones[:6] if self.rng.random() < 0.8 else zones)
            team = self.rng.sample(members, k=min(len(members), self.rng.randint(2, 3)))
            patrol = Patrol(
                association_id=association.id,
                zone_id=zone.id,
                started_by_id=team[0].id,
                started_at=start,
                ended_at=end,
                people_seen_not_met=self.rng.randint(0, 15),
                atmosphere=_pick(self.rng, ATMOSPHERE_WEIGHTS),
                used_material_collected=self.rng.randint(0, 40),
                site_observations=self.rng.choice(SITE_OBSERVATIONS) or None,
                members=[PatrolMember(user_id=user.id) for user in team],
            )
            self.session.add(patrol)
            self.session.flush()
            patrols += 1
            for _ in range(min(count - made, self.rng.randint(6, 22))):
                code = (
                    self.rng.choices(codes, weights=code_weights)[0]
                    if self.rng.random() < 0.65
                    else None
                )
                first = code is not None and normalise_code(code) not in seen
                if code is not None:
                    seen.add(normalise_code(code))
                self.session.add(
                    self.contact(association, patrol, zone, team, start, end, code, first)
                )
                made += 1
        return made, patrols

    def contact(
        self,
        association: Association,
        patrol: Patrol,
        zone: Zone,
        team: list[User],
        start: datetime,
        end: datetime,
        code: str | None,
        first: bool,
    ) -> Contact:
        rng = self.rng
        occurred_at = to_minute(start + (end - start) * rng.random())
        needs = {_pick(rng, NEED_WEIGHTS) for _ in range(rng.choice((0, 1, 1, 2, 2, 3)))}
        materials: dict[str, int] = {}
        if rng.random() < 0.7:
            for _ in range(rng.randint(1, 3)):
                code_ = _pick(rng, MATERIAL_WEIGHTS)
                low, high = MATERIAL_RANGES[code_]
                materials[code_] = rng.randint(low, high)
        referrals = []
        if rng.random() < 0.25:
            for destination in {
                _pick(rng, DESTINATION_WEIGHTS) for _ in range(rng.choice((1, 1, 2)))
            }:
                referrals.append(ReferralDraft(destination, rng.random() < 0.3, "proposed"))
        draft = ContactDraft(
            client_id=uuid.UUID(int=rng.getrandbits(128), version=4),
            occurred_at=occurred_at,
            zone_code=zone.code,
            zone_id=zone.id,
            patrol_id=patrol.id,
            gender=_pick(rng, GENDER_WEIGHTS),
            age_band=_pick(rng, AGE_WEIGHTS),
            housing=_pick(rng, HOUSING_WEIGHTS),
            first_contact=first or (code is None and rng.random() < 0.15),
            needs=tuple(sorted(needs & self.needs)),
            materials=tuple(sorted((c, q) for c, q in materials.items() if c in self.materials)),
            referrals=tuple(r for r in referrals if r.destination in self.destinations),
            normalised_code=normalise_code(code) if code else None,
        )
        author = rng.choice(team)
        contact = build_contact(
            draft, author, association, self.settings.pseudonym_key, occurred_at
        )
        for referral in contact.referrals:
            self.progress(referral, occurred_at, author)
        return contact

    def progress(self, referral: Referral, since: datetime, author: User) -> None:
        """Referrals move on over the following days, as they do in life."""
        steps: list[str] = []
        roll = self.rng.random()
        if roll < 0.65:
            steps.append("accepted")
            outcome = self.rng.random()
            if outcome < 0.5:
                steps.append("attended")
            elif outcome < 0.75:
                steps.append("not_attended")
            elif outcome < 0.9:
                steps.append("unknown")
        elif roll < 0.85:
            steps.append("refused_by_person")
        elif roll < 0.9:
            steps.append("refused_by_service")
        moment = since
        for status in steps:
            moment = moment + timedelta(hours=self.rng.randint(4, 96))
            if moment > self.now:
                break
            referral.status = status
            referral.status_changed_at = moment
            referral.history.append(
                ReferralStatusChange(status=status, changed_at=moment, changed_by_id=author.id)
            )


class DemoRefusedError(RuntimeError):
    """Demo data (and its well-known accounts) never go into a production database."""


def seed_demo(
    session: Session, settings: Settings, *, contacts: int, password: str, seed: int = 2026
) -> list[str]:
    """Create what is missing; returns lines to print. Refused in production."""
    if settings.is_production:
        raise DemoRefusedError(
            "seed-demo is refused when OUTREACH_ENV=production: demo accounts have "
            "published passwords. Create real accounts with `outreach create-user`."
        )
    check_password_policy(password)  # even when every account exists already
    associations, zones = ensure_reference_data(session)
    created = _ensure_accounts(session, settings, associations, password)
    report = [f"accounts created: {len(created)} ({', '.join(created) or 'none new'})"]
    generator = _Generator(session, settings, now_utc(), seed)
    ordered_zones = sorted(zones.values(), key=lambda zone: zone.position)
    shared_codes = generator.code_pool(max(5, contacts // 60), ())
    shares = {"demo": 0.7, "other": 0.3}
    for slug, share in shares.items():
        association = associations[slug]
        has_contacts = session.scalar(
            select(func.count(Contact.id)).where(Contact.association_id == association.id)
        )
        wanted = round(contacts * share)
        if has_contacts:
            report.append(f"{slug}: already has {has_contacts} contacts, none added")
            continue
        if wanted == 0:
            continue
        members = list(
            session.scalars(
                select(User).where(User.association_id == association.id).order_by(User.id)
            )
        )
        codes = generator.code_pool(max(20, wanted // 4), shared_codes)
        made, patrols = generator.contacts_for(association, ordered_zones, members, wanted, codes)
        session.flush()
        report.append(f"{slug}: {made} contacts in {patrols} patrols over {WEEKS} weeks")
    return report
