"""The one place that decides what a valid contact is.

Both the HTML form and the JSON API turn their input into the API's JSON shape
(DOMAIN.md) and call `validate_contact`. It returns a `ContactDraft` or
per-field messages in the user's language; it never touches the database.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from ..clock import PARIS, to_minute
from ..i18n import LazyText, lazy_text
from ..pseudonyms import (
    MAX_CODE_LENGTH,
    MIN_CODE_LENGTH,
    CodeProblem,
    code_problem,
    normalise_code,
)
from ..vocabulary import (
    AGE_BANDS,
    GENDERS,
    HOUSING,
    MAX_MATERIAL_QUANTITY,
    MAX_REFERRALS_PER_CONTACT,
    REFERRAL_STATUSES,
)

# A phone may sync days after a night without network; older is a typing mistake.
MAX_AGE = timedelta(days=60)
MAX_CLOCK_SKEW = timedelta(minutes=10)

CONTACT_FIELDS = frozenset(
    {
        "id",
        "occurred_at",
        "zone",
        "patrol_id",
        "person_code",
        "gender",
        "age_band",
        "housing",
        "first_contact",
        "needs",
        "materials",
        "referrals",
    }
)
REFERRAL_FIELDS = frozenset({"destination", "accompanied", "status"})

Errors = dict[str, list[str | LazyText]]

# What the phone checks before it queues a contact, in the server's own words
# (`phone_check_messages`), so that both say the same.
TIME_MISSING = _l("Indiquez la date et l'heure du contact.")
TIME_UNREADABLE = _l("Date et heure illisibles.")
TIME_IN_FUTURE = _l("Ce moment est dans le futur.")
TIME_TOO_OLD = _l("Ce contact date de plus de 60 jours.")
ZONE_MISSING = _l("Choisissez une zone.")
WHOLE_NUMBER = _l("Nombre entier attendu.")
QUANTITY_RANGE = _l("Entre 0 et %(max)s.", max=MAX_MATERIAL_QUANTITY)
DESTINATION_TWICE = _l("Cette destination est déjà indiquée.")


def phone_check_messages() -> dict[str, Any]:
    """The limits and messages of the checks the phone makes before queueing a contact."""
    return {
        "maxSkewMinutes": MAX_CLOCK_SKEW // timedelta(minutes=1),
        "maxAgeDays": MAX_AGE.days,
        "maxQuantity": MAX_MATERIAL_QUANTITY,
        "timeMissing": str(TIME_MISSING),
        "timeUnreadable": str(TIME_UNREADABLE),
        "timeInFuture": str(TIME_IN_FUTURE),
        "timeTooOld": str(TIME_TOO_OLD),
        "zoneMissing": str(ZONE_MISSING),
        "wholeNumber": str(WHOLE_NUMBER),
        "quantityRange": str(QUANTITY_RANGE),
        "destinationTwice": str(DESTINATION_TWICE),
    }


# Kinds of retired entries, as (kind, code) pairs: a code may exist in two taxonomies.
RetiredCode = tuple[str, str]


class PatrolAccess(enum.Enum):
    """What the caller may do with a patrol of their association (the form's checks)."""

    CLOSED = "closed"  # ended: the form adds nothing to it any more
    MEMBER = "member"  # open, and the caller is one of its members
    NOT_MEMBER = "not_member"  # open, and the caller is not in it


@dataclass(frozen=True, slots=True)
class CaptureOptions:
    """What the database allows: codes that exist and the caller's patrols.

    `patrols` holds the patrols of the caller's association that the input mentions: a
    contact may name any of them (a phone syncs after its patrol ended); the form also
    checks the access.

    `retired` holds the (kind, code) pairs an admin retired (kinds: zone, need, material,
    destination): a new contact may not use them, but a contact already stored with one
    (`kept`, by its id) keeps it, so that a replay or a correction still goes through.
    """

    zones: Mapping[str, int]
    needs: frozenset[str]
    materials: frozenset[str]
    destinations: frozenset[str]
    patrols: Mapping[int, PatrolAccess]
    retired: frozenset[RetiredCode] = frozenset()
    kept: Mapping[uuid.UUID, frozenset[RetiredCode]] = field(default_factory=dict)
    # Retired entries' labels in the interface language: a refusal names them, not codes.
    retired_labels: Mapping[RetiredCode, str] = field(default_factory=dict)

    def label(self, kind: str, code: str) -> str:
        return self.retired_labels.get((kind, code), code)

    def refused(self, client_id: uuid.UUID | None, kind: str, code: str) -> bool:
        """A retired code this contact did not already hold."""
        if (kind, code) not in self.retired:
            return False
        return client_id is None or (kind, code) not in self.kept.get(client_id, frozenset())


@dataclass(frozen=True, slots=True)
class ReferralDraft:
    destination: str
    accompanied: bool
    status: str


@dataclass(frozen=True, slots=True)
class ContactDraft:
    client_id: uuid.UUID
    occurred_at: datetime
    zone_code: str
    zone_id: int
    patrol_id: int | None
    gender: str
    age_band: str
    housing: str
    first_contact: bool
    needs: tuple[str, ...]
    materials: tuple[tuple[str, int], ...]
    referrals: tuple[ReferralDraft, ...]
    # Held in memory only, to compute pseudonyms; never stored, logged or shown.
    normalised_code: str | None = field(default=None, repr=False)


class _Collector:
    def __init__(self) -> None:
        self.errors: Errors = {}

    def add(self, key: str, message: LazyString | LazyText) -> None:
        self.errors.setdefault(key, []).append(message)


def _parse_uuid(value: Any, errors: _Collector) -> uuid.UUID | None:
    if not isinstance(value, str):
        errors.add("id", _l("Identifiant manquant : rechargez le formulaire."))
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        errors.add("id", _l("Identifiant invalide : rechargez le formulaire."))
        return None


def _parse_time(value: Any, now: datetime, errors: _Collector) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        errors.add("occurred_at", TIME_MISSING)
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        errors.add("occurred_at", TIME_UNREADABLE)
        return None
    if moment.tzinfo is None:  # the HTML form sends Paris wall-clock time
        moment = moment.replace(tzinfo=PARIS)
    if moment > now + MAX_CLOCK_SKEW:
        errors.add("occurred_at", TIME_IN_FUTURE)
        return None
    if moment < now - MAX_AGE:
        errors.add("occurred_at", TIME_TOO_OLD)
        return None
    return to_minute(moment)


def _parse_choice(
    data: Mapping[str, Any], key: str, choices: Mapping[str, Any], errors: _Collector
) -> str:
    value = data.get(key)
    if value is None or value == "":
        return "unknown"
    if not isinstance(value, str) or value not in choices:
        errors.add(key, _l("Choix inconnu."))
        return "unknown"
    return value


def _parse_bool(data: Mapping[str, Any], key: str, errors: _Collector) -> bool:
    value = data.get(key, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        errors.add(key, _l("Oui ou non attendu."))
        return False
    return value


def code_message(problem: CodeProblem) -> LazyString:
    """What to tell the person typing a code that cannot be used."""
    return {
        CodeProblem.TOO_SHORT: _l(
            "Le code doit compter au moins %(n)s lettres ou chiffres.", n=MIN_CODE_LENGTH
        ),
        CodeProblem.TOO_LONG: _l(
            "Le code ne peut dépasser %(n)s lettres ou chiffres.", n=MAX_CODE_LENGTH
        ),
        CodeProblem.NO_LETTER: _l(
            "Le code doit contenir au moins une lettre : une année seule désigne trop de personnes."
        ),
    }[problem]


def _parse_person_code(value: Any, errors: _Collector) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        errors.add("person_code", _l("Code illisible."))
        return None
    normalised = normalise_code(value)
    problem = code_problem(normalised)
    if problem is not None:
        errors.add("person_code", code_message(problem))
        return None
    return normalised


def _parse_needs(
    value: Any, options: CaptureOptions, client_id: uuid.UUID | None, errors: _Collector
) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
        errors.add("needs", _l("Liste de besoins attendue."))
        return ()
    unknown = sorted(set(value) - options.needs)
    if unknown:
        errors.add("needs", lazy_text("Besoin inconnu : %(codes)s.", codes=", ".join(unknown)))
        return ()
    retired = sorted(code for code in set(value) if options.refused(client_id, "need", code))
    if retired:
        errors.add(
            "needs",
            lazy_text(
                "Besoin retiré, plus proposé : %(codes)s.",
                codes=", ".join(options.label("need", code) for code in retired),
            ),
        )
        return ()
    return tuple(sorted(set(value)))


def _parse_materials(
    value: Any, options: CaptureOptions, client_id: uuid.UUID | None, errors: _Collector
) -> tuple[tuple[str, int], ...]:
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        errors.add("materials", _l("Quantités de matériel attendues."))
        return ()
    quantities: list[tuple[str, int]] = []
    for code, quantity in value.items():
        key = f"materials.{code}"
        if code not in options.materials:
            errors.add(key, _l("Matériel inconnu."))
        elif options.refused(client_id, "material", code):
            errors.add(key, _l("Matériel retiré, plus proposé."))
        elif isinstance(quantity, bool) or not isinstance(quantity, int):
            errors.add(key, WHOLE_NUMBER)
        elif not 0 <= quantity <= MAX_MATERIAL_QUANTITY:
            errors.add(key, QUANTITY_RANGE)
        elif quantity:
            quantities.append((code, quantity))
    return tuple(sorted(quantities))


def _parse_referrals(
    value: Any, options: CaptureOptions, client_id: uuid.UUID | None, errors: _Collector
) -> tuple[ReferralDraft, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        errors.add("referrals", _l("Liste d'orientations attendue."))
        return ()
    if len(value) > MAX_REFERRALS_PER_CONTACT:
        errors.add(
            "referrals",
            _l("Au plus %(n)s orientations par contact.", n=MAX_REFERRALS_PER_CONTACT),
        )
        return ()
    drafts: list[ReferralDraft] = []
    for index, item in enumerate(value):
        prefix = f"referrals.{index}"
        if not isinstance(item, Mapping):
            errors.add(prefix, _l("Orientation illisible."))
            continue
        for extra in sorted(set(item) - REFERRAL_FIELDS):
            errors.add(f"{prefix}.{extra}", _l("Champ inconnu."))
        destination = item.get("destination")
        if not isinstance(destination, str) or destination not in options.destinations:
            errors.add(f"{prefix}.destination", _l("Choisissez une destination."))
            continue
        if options.refused(client_id, "destination", destination):
            errors.add(
                f"{prefix}.destination",
                lazy_text(
                    "Destination retirée, plus proposée : %(code)s.",
                    code=options.label("destination", destination),
                ),
            )
            continue
        if any(draft.destination == destination for draft in drafts):
            errors.add(f"{prefix}.destination", DESTINATION_TWICE)
            continue
        accompanied = _parse_bool(item, "accompanied", _Prefixed(errors, prefix))
        status = item.get("status", "proposed")
        if not isinstance(status, str) or status not in REFERRAL_STATUSES:
            errors.add(f"{prefix}.status", _l("Statut inconnu."))
            continue
        drafts.append(ReferralDraft(destination, accompanied, status))
    return tuple(drafts)


class _Prefixed(_Collector):
    """Files a nested field's errors under its parent's path."""

    def __init__(self, parent: _Collector, prefix: str) -> None:
        self.parent = parent
        self.prefix = prefix

    def add(self, key: str, message: LazyString | LazyText) -> None:
        self.parent.add(f"{self.prefix}.{key}", message)


def validate_contact(
    data: Any, options: CaptureOptions, now: datetime
) -> tuple[ContactDraft | None, Errors]:
    errors = _Collector()
    if not isinstance(data, Mapping):
        errors.add("", _l("Un contact (objet JSON) est attendu."))
        return None, errors.errors
    for extra in sorted(set(data) - CONTACT_FIELDS):
        errors.add(extra, _l("Champ inconnu."))

    client_id = _parse_uuid(data.get("id"), errors)
    occurred_at = _parse_time(data.get("occurred_at"), now, errors)

    zone_code = data.get("zone")
    if not isinstance(zone_code, str) or zone_code not in options.zones:
        errors.add("zone", ZONE_MISSING)
    elif options.refused(client_id, "zone", zone_code):
        errors.add("zone", _l("Cette zone n'est plus active : choisissez-en une autre."))

    patrol_id = data.get("patrol_id")
    if patrol_id is not None and (
        isinstance(patrol_id, bool)
        or not isinstance(patrol_id, int)
        or patrol_id not in options.patrols
    ):
        errors.add("patrol_id", _l("Tournée inconnue."))

    normalised_code = _parse_person_code(data.get("person_code"), errors)
    gender = _parse_choice(data, "gender", GENDERS, errors)
    age_band = _parse_choice(data, "age_band", AGE_BANDS, errors)
    housing = _parse_choice(data, "housing", HOUSING, errors)
    first_contact = _parse_bool(data, "first_contact", errors)
    needs = _parse_needs(data.get("needs"), options, client_id, errors)
    materials = _parse_materials(data.get("materials"), options, client_id, errors)
    referrals = _parse_referrals(data.get("referrals"), options, client_id, errors)

    if errors.errors or client_id is None or occurred_at is None:
        return None, errors.errors
    return (
        ContactDraft(
            client_id=client_id,
            occurred_at=occurred_at,
            zone_code=str(zone_code),
            zone_id=options.zones[str(zone_code)],
            patrol_id=patrol_id,
            gender=gender,
            age_band=age_band,
            housing=housing,
            first_contact=first_contact,
            needs=needs,
            materials=materials,
            referrals=referrals,
            normalised_code=normalised_code,
        ),
        {},
    )
