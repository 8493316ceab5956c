"""Typed SQLAlchemy 2.0 models. Constraints live in the database too.

Times are stored as naive UTC (see `UTCDateTime`) so that SQLite and
PostgreSQL behave the same; the app always handles aware datetimes.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.expression import false

from .clock import now_utc
from .extensions import Base
from .i18n import localized
from .vocabulary import (
    AGE_BANDS,
    ASSOCIATION_ROLES,
    ATMOSPHERES,
    GENDERS,
    HOUSING,
    LOCALES,
    MATERIAL_CATEGORIES,
    MAX_MATERIAL_QUANTITY,
    REFERRAL_STATUSES,
    ROLES,
    SLOTS,
)

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a bigint.
BigId = BigInteger().with_variant(Integer(), "sqlite")
# The largest id each kind of key can hold: a larger number is no row's id, and neither
# driver can bind it (OverflowError on SQLite, out of range on PostgreSQL).
INTEGER_MAX = 2**31 - 1  # integer keys: users, associations, zones, patrols...
BIGINT_MAX = 2**63 - 1  # BigId keys: contacts, referrals


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out; naive UTC in the database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous: pass an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def one_of(column: str, values: Any, name: str) -> CheckConstraint:
    quoted = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({quoted})", name=name)


class Association(Base):
    __tablename__ = "associations"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The slug keys the association's pseudonyms: it never changes once created.
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    __table_args__ = (CheckConstraint("slug <> ''", name="slug_not_empty"),)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    association_id: Mapped[int | None] = mapped_column(
        ForeignKey("associations.id", ondelete="RESTRICT"), index=True
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Security (migration 0004): a reset password must be changed at the next login;
    # the TOTP secret is encrypted (auth/totp.py) and the last accepted time step is
    # kept so that a code is accepted once only.
    must_change_password: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_secret_encrypted: Mapped[str | None] = mapped_column(String(255))
    totp_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # Interface language chosen by the user (migration 0005); None follows the browser.
    locale: Mapped[str | None] = mapped_column(String(5))

    association: Mapped[Association | None] = relationship()

    __table_args__ = (
        one_of("role", ROLES, "role_known"),
        CheckConstraint(
            "(role IN ({0}) AND association_id IS NOT NULL)"
            " OR (role NOT IN ({0}) AND association_id IS NULL)".format(
                ", ".join(f"'{role}'" for role in ASSOCIATION_ROLES)
            ),
            name="association_matches_role",
        ),
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        one_of("locale", LOCALES, "locale_known"),
    )

    # Flask-Login protocol.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        # A deactivated association's members cannot log in either (admin/services.py).
        return self.active and (self.association is None or self.association.active)

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)


class Zone(Base):
    __tablename__ = "zones"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    departement: Mapped[str] = mapped_column(String(3))
    position: Mapped[int] = mapped_column(SmallInteger, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class TaxonomyMixin:
    """A stable code with editable labels; retired entries stay for history."""

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    label_fr: Mapped[str] = mapped_column(String(120))
    label_en: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(SmallInteger, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def label(self, locale: str) -> str:
        return self.label_en if locale.startswith("en") else self.label_fr

    @property
    def localized_label(self) -> str:
        """The label in the interface's language (French outside a request)."""
        return localized(self.label_fr, self.label_en)


class Need(TaxonomyMixin, Base):
    __tablename__ = "needs"


class Material(TaxonomyMixin, Base):
    __tablename__ = "materials"

    category: Mapped[str] = mapped_column(String(16))

    __table_args__ = (one_of("category", MATERIAL_CATEGORIES, "category_known"),)


class ReferralDestination(TaxonomyMixin, Base):
    __tablename__ = "referral_destinations"


class TaxonomyStamp(Base):
    """One row: a random stamp that database triggers renew whenever zones or taxonomy
    entries are written (migration 0006). Captures check it instead of reading the
    taxonomies on every request (capture/services.py caches them per stamp), and every
    instance sees an admin's change at its next request."""

    __tablename__ = "taxonomy_stamp"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    stamp: Mapped[str] = mapped_column(String(32))

    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)


class PatrolMember(Base):
    __tablename__ = "patrol_members"

    patrol_id: Mapped[int] = mapped_column(
        ForeignKey("patrols.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), primary_key=True, index=True
    )

    user: Mapped[User] = relationship()


class Patrol(Base):
    __tablename__ = "patrols"

    id: Mapped[int] = mapped_column(primary_key=True)
    association_id: Mapped[int] = mapped_column(ForeignKey("associations.id", ondelete="RESTRICT"))
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id", ondelete="RESTRICT"))
    started_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # End-of-patrol report: about the site, never about a person.
    people_seen_not_met: Mapped[int | None] = mapped_column(SmallInteger)
    atmosphere: Mapped[str | None] = mapped_column(String(16))
    used_material_collected: Mapped[int | None] = mapped_column(Integer)
    site_observations: Mapped[str | None] = mapped_column(Text)

    zone: Mapped[Zone] = relationship()
    members: Mapped[list[PatrolMember]] = relationship(
        cascade="all, delete-orphan", order_by=PatrolMember.user_id
    )

    __table_args__ = (
        one_of("atmosphere", ATMOSPHERES, "atmosphere_known"),
        CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="ends_after_start"),
        CheckConstraint(
            "people_seen_not_met IS NULL OR people_seen_not_met BETWEEN 0 AND 999",
            name="people_seen_not_met_range",
        ),
        CheckConstraint(
            "used_material_collected IS NULL OR used_material_collected BETWEEN 0 AND 99999",
            name="used_material_collected_range",
        ),
        CheckConstraint(
            "site_observations IS NULL OR length(site_observations) <= 1000",
            name="site_observations_length",
        ),
        Index("ix_patrols_association_started", "association_id", "started_at"),
        Index("ix_patrols_started_at", "started_at"),
    )

    @property
    def is_open(self) -> bool:
        return self.ended_at is None

    def has_member(self, user: User) -> bool:
        return any(member.user_id == user.id for member in self.members)


class PlannedPatrol(Base):
    """A patrol an association plans in a zone for a day's slot (coverage board, migration
    0009): `day` is 07:00-19:59 and `night` 20:00-06:59 Paris time, the night belonging to
    the date it starts on. Whether it was done is read from `patrols` (coverage/services.py)."""

    __tablename__ = "planned_patrols"

    id: Mapped[int] = mapped_column(primary_key=True)
    association_id: Mapped[int] = mapped_column(ForeignKey("associations.id", ondelete="RESTRICT"))
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id", ondelete="RESTRICT"))
    # The Paris date of the slot's start.
    planned_date: Mapped[date] = mapped_column(Date, index=True)
    slot: Mapped[str] = mapped_column(String(8))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    association: Mapped[Association] = relationship()
    zone: Mapped[Zone] = relationship()

    __table_args__ = (
        one_of("slot", SLOTS, "slot_known"),
        UniqueConstraint(
            "association_id",
            "zone_id",
            "planned_date",
            "slot",
            name="uq_planned_patrols_association_zone_date_slot",
        ),
    )


class ContactNeed(Base):
    __tablename__ = "contact_needs"

    contact_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    need_code: Mapped[str] = mapped_column(
        ForeignKey("needs.code", ondelete="RESTRICT"), primary_key=True, index=True
    )


class ContactMaterial(Base):
    __tablename__ = "contact_materials"

    contact_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    material_code: Mapped[str] = mapped_column(
        ForeignKey("materials.code", ondelete="RESTRICT"), primary_key=True, index=True
    )
    quantity: Mapped[int] = mapped_column(SmallInteger)

    __table_args__ = (
        CheckConstraint(f"quantity BETWEEN 0 AND {MAX_MATERIAL_QUANTITY}", name="quantity_range"),
    )


class ReferralStatusChange(Base):
    __tablename__ = "referral_status_changes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    referral_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("referrals.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(24))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    changed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )

    __table_args__ = (one_of("status", REFERRAL_STATUSES, "status_known"),)


class Referral(Base):
    __tablename__ = "referrals"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    destination_code: Mapped[str] = mapped_column(
        ForeignKey("referral_destinations.code", ondelete="RESTRICT"), index=True
    )
    accompanied: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(24), default="proposed")
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    history: Mapped[list[ReferralStatusChange]] = relationship(
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by=(ReferralStatusChange.changed_at, ReferralStatusChange.id),
    )
    destination: Mapped[ReferralDestination] = relationship()

    __table_args__ = (one_of("status", REFERRAL_STATUSES, "status_known"),)


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # Made by the phone; unique within the association only, so that another
    # association sending the same id learns nothing about this one.
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    association_id: Mapped[int] = mapped_column(ForeignKey("associations.id", ondelete="RESTRICT"))
    patrol_id: Mapped[int | None] = mapped_column(
        ForeignKey("patrols.id", ondelete="SET NULL"), index=True
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Derived from occurred_at in Europe/Paris time, for the weekly roll-ups.
    iso_week: Mapped[str] = mapped_column(String(8))
    night: Mapped[bool] = mapped_column(Boolean)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id", ondelete="RESTRICT"))
    pseudonym_association: Mapped[str | None] = mapped_column(String(64))
    pseudonym_region: Mapped[str | None] = mapped_column(String(64))
    gender: Mapped[str] = mapped_column(String(16), default="unknown")
    age_band: Mapped[str] = mapped_column(String(16), default="unknown")
    housing: Mapped[str] = mapped_column(String(24), default="unknown")
    first_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    # SHA-256 of the canonical validated body (pseudonymised): same id + same body is a replay.
    body_digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc)

    zone: Mapped[Zone] = relationship()
    patrol: Mapped[Patrol | None] = relationship()
    needs: Mapped[list[ContactNeed]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by=ContactNeed.need_code
    )
    materials: Mapped[list[ContactMaterial]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by=ContactMaterial.material_code
    )
    referrals: Mapped[list[Referral]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by=Referral.id
    )

    __table_args__ = (
        UniqueConstraint("association_id", "client_id", name="uq_contacts_association_client"),
        one_of("gender", GENDERS, "gender_known"),
        one_of("age_band", AGE_BANDS, "age_band_known"),
        one_of("housing", HOUSING, "housing_known"),
        CheckConstraint("length(iso_week) = 8", name="iso_week_format"),
        Index("ix_contacts_association_occurred", "association_id", "occurred_at"),
        Index("ix_contacts_association_week_zone", "association_id", "iso_week", "zone_id"),
        Index("ix_contacts_week_zone", "iso_week", "zone_id"),
        Index("ix_contacts_association_pseudonym", "association_id", "pseudonym_association"),
    )


class AuditEntry(Base):
    """Who did what, when. Never contact data, person codes, passwords or tokens."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, index=True)
    action: Mapped[str] = mapped_column(String(48))
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # The association concerned, so that a supervisor sees their association's entries only.
    association_id: Mapped[int | None] = mapped_column(
        ForeignKey("associations.id", ondelete="SET NULL"), index=True
    )
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship()


TARGET_PERIODS = ("week", "month", "quarter", "year", "plan")


class IndicatorTarget(Base):
    """A plan follow-up target for an indicator over one kind of fixed period (all associations)."""

    __tablename__ = "indicator_targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(8))
    value: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )

    __table_args__ = (
        UniqueConstraint("indicator", "period", name="uq_indicator_targets_indicator_period"),
        one_of("period", TARGET_PERIODS, "period_known"),
        CheckConstraint("value >= 0", name="value_not_negative"),
    )


# Weekly roll-up of the indicators (outreach/reports). Derived data, rebuilt from the raw
# rows: association_id 0 stands for all associations and zone_id 0 for all zones.
ALL = 0


class WeeklyRollup(Base):
    """One additive measure of one ISO week for one association (or all) and zone (or all)."""

    __tablename__ = "weekly_rollup"

    iso_week: Mapped[str] = mapped_column(String(8), primary_key=True)
    association_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    zone_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    measure: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)
    # Sum modulo cellkey.KEY_SPACE of the record keys of the records counted (funders' noise).
    key_sum: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (Index("ix_weekly_rollup_association_week", "association_id", "iso_week"),)


class WeeklyPerson(Base):
    """A person present in a week: the association's pseudonym, or the regional one under 0."""

    __tablename__ = "weekly_people"

    pseudonym: Mapped[str] = mapped_column(String(64), primary_key=True)
    association_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    zone_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    iso_week: Mapped[str] = mapped_column(String(8), primary_key=True)

    __table_args__ = (Index("ix_weekly_people_week", "iso_week"),)


class RollupStale(Base):
    """A week whose roll-up must be recomputed; written by database triggers."""

    __tablename__ = "rollup_stale"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    iso_week: Mapped[str] = mapped_column(String(8), index=True)


class UserSession(Base):
    """A login, recorded on the server: the cookie carries only its random id.

    Only the SHA-256 of that id is stored, so a copy of the database opens no session.
    Logout, a password change or a deactivation set `revoked_at`; the loader refuses
    revoked, idle and too old sessions (auth/sessions.py).
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(24))
    # The person the follow-up page shows (the association's pseudonym): kept here, on the
    # server, for this login only, never in the cookie; cleared when the session ends.
    followup_pseudonym: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User] = relationship()

    __table_args__ = (Index("ix_user_sessions_created_at", "created_at"),)


class RecoveryCode(Base):
    """One-use codes that stand in for the second factor when the phone is lost (hashed)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("user_id", "code_hash", name="uq_recovery_codes_user_code"),)


class RollupWeek(Base):
    """A token, new (random) each time a week's roll-up is recomputed: caches key on it."""

    __tablename__ = "rollup_weeks"

    iso_week: Mapped[str] = mapped_column(String(8), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=1)
