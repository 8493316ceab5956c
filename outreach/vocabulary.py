"""Fixed enumerations of the domain (DOMAIN.md), with their interface labels.

Codes are stable: they are stored, exported and checked by the database.
Labels go through Flask-Babel so that the interface can be translated.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

ROLES: dict[str, LazyString] = {
    "worker": _l("Intervenant·e de maraude"),
    "supervisor": _l("Coordinateur·rice"),
    "funder": _l("Financeur"),
    "admin": _l("Administrateur·rice"),
}
# Roles that belong to one association (tenant); the others see no records.
ASSOCIATION_ROLES = ("worker", "supervisor")
# Interface languages; the first is the default (DOMAIN.md: French first).
LOCALES = ("fr", "en")
CAPTURE_ROLES = ("worker", "supervisor")
# Who sees the coverage board of every association (zone level only, no person data).
COVERAGE_ROLES = ("supervisor", "funder", "admin")
# Slots of a day on the coverage board, Paris time; a night belongs to the date it starts on.
SLOTS: dict[str, LazyString] = {
    "day": _l("Jour (7 h – 20 h)"),
    "night": _l("Nuit (20 h – 7 h)"),
}

GENDERS: dict[str, LazyString] = {
    "female": _l("Femme"),
    "male": _l("Homme"),
    "other": _l("Autre"),
    "unknown": _l("Non renseigné"),
}

AGE_BANDS: dict[str, LazyString] = {
    "under_18": _l("< 18"),
    "18_24": _l("18–24"),
    "25_34": _l("25–34"),
    "35_44": _l("35–44"),
    "45_54": _l("45–54"),
    "55_plus": _l("55 +"),
    "unknown": _l("Non renseigné"),
}

HOUSING: dict[str, LazyString] = {
    "street": _l("Rue"),
    "squat": _l("Squat"),
    "emergency_shelter": _l("Hébergement d'urgence"),
    "hotel": _l("Hôtel"),
    "housed": _l("Logé·e"),
    "unknown": _l("Non renseigné"),
}

REFERRAL_STATUSES: dict[str, LazyString] = {
    "proposed": _l("Proposée"),
    "accepted": _l("Acceptée"),
    "refused_by_person": _l("Refusée par la personne"),
    "refused_by_service": _l("Refusée par le service"),
    "attended": _l("Honorée"),
    "not_attended": _l("Non honorée"),
    "unknown": _l("Issue inconnue"),
}

# proposed -> accepted | refused_by_person | refused_by_service -> attended | not_attended | unknown
# An "unknown" outcome may still be learnt later.
REFERRAL_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "proposed": ("accepted", "refused_by_person", "refused_by_service"),
    "accepted": ("attended", "not_attended", "unknown"),
    "unknown": ("attended", "not_attended"),
    "refused_by_person": (),
    "refused_by_service": (),
    "attended": (),
    "not_attended": (),
}

ATMOSPHERES: dict[str, LazyString] = {
    "calm": _l("Calme"),
    "tense": _l("Tendue"),
    "violent": _l("Violente"),
}

MATERIAL_CATEGORIES: dict[str, LazyString] = {
    "crack": _l("Crack"),
    "injection": _l("Injection"),
    "other": _l("Autre"),
}

MAX_MATERIAL_QUANTITY = 999
MAX_REFERRALS_PER_CONTACT = 5
