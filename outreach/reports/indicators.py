"""The one registry of the indicators of DOMAIN.md: codes, labels, definitions, computation.

Every indicator is computed from *measures*: additive counts aggregated in SQL per ISO
week (Europe/Paris), association and zone (see `rollup.py`), summed over the weeks of a
period, then combined here (a count, a share, a rate). Distinct people are the one
non-additive figure: the roll-up stores, per week, the people seen for the first time in
the week, the month, the quarter, the year or ever, so that the distinct people of any
fixed period is again a sum of weekly rows (`people_measure`).

Codes are stable: they name the CSV rows and the targets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import ColumnElement, case, func

from ..i18n import LazyText, lazy_localized
from ..models import Contact, Referral

Unit = Literal["count", "share", "rate", "hours"]
# What funders' figures are made of (services.PublishedFigures, cell key method):
#   count: one perturbed count (its numerator's records, as one cell);
#   share: perturbed numerator / perturbed denominator;
#   rate_of_contacts: perturbed contacts / exact patrol hours;
#   group: one perturbed count of the records of its component destinations;
#   activity: the teams' own activity (patrols, hours), not people: exact.
Protection = Literal["count", "share", "rate_of_contacts", "group", "activity"]
Family = Literal["need", "material", "referral"]

SHELTER_DESTINATIONS = ("shelter_115", "hotel_program")
TREATMENT_DESTINATIONS = ("csapa", "hsa", "residential_care")
FAMILIES: tuple[Family, ...] = ("need", "material", "referral")


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def contact_measure_sql() -> dict[str, ColumnElement[int]]:
    """Aggregates over the contacts of a week, grouped by association and zone."""
    anonymous = Contact.pseudonym_region.is_(None)
    return {
        "contacts": func.count(Contact.id),
        "contacts_anonymous": _count_if(anonymous),
        "contacts_women": _count_if(Contact.gender == "female"),
        "contacts_gender_known": _count_if(Contact.gender != "unknown"),
        "contacts_night": _count_if(Contact.night.is_(True)),
        "first_contacts_anonymous": _count_if(anonymous & Contact.first_contact.is_(True)),
    }


def referral_measure_sql() -> dict[str, ColumnElement[int]]:
    """Aggregates over the referrals made in the contacts of a week."""
    return {
        "referrals": func.count(Referral.id),
        "referrals_accompanied": _count_if(Referral.accompanied.is_(True)),
        "referrals_attended": _count_if(Referral.status == "attended"),
    }


# People present in the week ("people") and people seen for the first time in the week's
# month, quarter, ISO year, or ever, within the association, or the region under
# association 0 (rollup._people_sums). Patrols and patrol minutes come from the patrols
# table (services._patrol_measures): the teams' activity, by start time.
# The distinct people measure to sum over the weeks of each kind of period.
PEOPLE_MEASURE_BY_PERIOD = {
    "week": "people",
    "month": "people_first_month",
    "quarter": "people_first_quarter",
    "ytd": "people_first_year",
    "plan": "people_first_ever",
}
PEOPLE = "people@period"  # placeholder resolved by `people_measure`


def people_measure(period_kind: str) -> str:
    return PEOPLE_MEASURE_BY_PERIOD[period_kind]


def family_measure(family: Family, code: str) -> str:
    return f"{family}.{code}"


@dataclass(frozen=True, slots=True)
class Indicator:
    code: str
    label: (
        str | LazyString | LazyText
    )  # in the interface's language (a French msgid, or both labels)
    label_en: str
    definition: str | LazyString
    unit: Unit
    numerator: tuple[str, ...]  # measures summed
    denominator: tuple[str, ...] = ()  # measures summed; empty for counts
    protection: Protection = "count"
    components: tuple[str, ...] = field(default=())  # indicator codes, for groups
    # Across associations a person met by two of them counts once: the association
    # rows of a funders' table do not add up to its total.
    adds_up_across_associations: bool = True
    adds_up_across_zones: bool = True
    headline: bool = True  # shown among the main figures

    @property
    def uses_patrols(self) -> bool:
        return bool({"patrols", "patrol_minutes"} & {*self.numerator, *self.denominator})

    def value(self, sums: Mapping[str, float]) -> float | None:
        """The indicator from summed measures; None when a ratio has nothing to divide."""
        top = sum(sums.get(measure, 0) for measure in self.numerator)
        if self.unit == "hours":
            return top / 60
        if not self.denominator:
            return top
        bottom = sum(sums.get(measure, 0) for measure in self.denominator)
        if self.unit == "rate":
            bottom = bottom / 60  # patrol minutes to hours
        return top / bottom if bottom else None


def _static() -> tuple[Indicator, ...]:
    return (
        Indicator(
            "contacts",
            _l("Contacts"),
            "Contacts",
            _l("Rencontres enregistrées, avec ou sans code de la personne."),
            "count",
            ("contacts",),
        ),
        Indicator(
            "people_distinct",
            _l("Personnes distinctes"),
            "Distinct people",
            _l(
                "Personnes différentes rencontrées sur la période, comptées par leur code "
                "(pseudonyme de l'association ; entre associations, pseudonyme régional : une "
                "personne vue par deux associations compte une fois). Les contacts sans code "
                "n'y sont pas : voir « Contacts anonymes »."
            ),
            "count",
            (PEOPLE,),
            adds_up_across_associations=False,
            adds_up_across_zones=False,
        ),
        Indicator(
            "people_new",
            _l("Nouvelles personnes"),
            "New people",
            _l(
                "Personnes rencontrées pour la première fois (premier contact connu) par "
                "l'association (entre associations : par l'une ou l'autre), comptées par leur "
                "code ; dans une zone, personnes jamais rencontrées auparavant dans cette zone. "
                "S'y ajoutent les contacts sans code déclarés « premier contact » par l'équipe. "
                "Un code purgé après la durée de conservation redevient nouveau."
            ),
            "count",
            ("people_first_ever", "first_contacts_anonymous"),
            adds_up_across_associations=False,
            adds_up_across_zones=False,
        ),
        Indicator(
            "contacts_anonymous",
            _l("Contacts anonymes"),
            "Anonymous contacts",
            _l("Contacts enregistrés sans code de la personne."),
            "count",
            ("contacts_anonymous",),
        ),
        Indicator(
            "women_share",
            _l("Part de femmes"),
            "Share of women",
            _l("Contacts avec une femme, parmi les contacts dont le genre est renseigné."),
            "share",
            ("contacts_women",),
            ("contacts_gender_known",),
            protection="share",
        ),
        Indicator(
            "night_share",
            _l("Part de contacts de nuit"),
            "Share of night contacts",
            _l("Contacts entre 20:00 et 06:59 (heure de Paris), parmi tous les contacts."),
            "share",
            ("contacts_night",),
            ("contacts",),
            protection="share",
        ),
        Indicator(
            "patrols",
            _l("Tournées"),
            "Patrols",
            _l(
                "Tournées commencées dans la période (heure de Paris), dans la zone où elles "
                "commencent. Activité des équipes : chiffre exact."
            ),
            "count",
            ("patrols",),
            protection="activity",
        ),
        Indicator(
            "patrol_hours",
            _l("Heures de tournée"),
            "Patrol hours",
            _l(
                "Durée cumulée des tournées terminées commencées dans la période (du début à "
                "la fin de la tournée, quel que soit le nombre d'intervenant·es)."
            ),
            "hours",
            ("patrol_minutes",),
            protection="activity",
        ),
        Indicator(
            "contacts_per_patrol_hour",
            _l("Contacts par heure de tournée"),
            "Contacts per patrol hour",
            _l("Contacts de la période divisés par ses heures de tournée."),
            "rate",
            ("contacts",),
            ("patrol_minutes",),
            protection="rate_of_contacts",
        ),
        Indicator(
            "referrals_accompanied",
            _l("Orientations accompagnées"),
            "Accompanied referrals",
            _l("Orientations de la période où un·e intervenant·e accompagne la personne."),
            "count",
            ("referrals_accompanied",),
        ),
        Indicator(
            "referrals_attended",
            _l("Orientations honorées"),
            "Attended referrals",
            _l(
                "Orientations faites pendant la période dont le statut actuel est « honorée », "
                "même si le rendez-vous a eu lieu plus tard."
            ),
            "count",
            ("referrals_attended",),
        ),
        Indicator(
            "referral_completion_rate",
            _l("Taux d'orientations honorées"),
            "Referral completion rate",
            _l("Orientations honorées parmi toutes les orientations faites pendant la période."),
            "share",
            ("referrals_attended",),
            ("referrals",),
            protection="share",
        ),
        Indicator(
            "referrals_shelter",
            _l("Orientations vers l'hébergement"),
            "Shelter referrals",
            _l("Orientations vers le 115 / SIAO et l'hébergement hôtelier du plan."),
            "count",
            tuple(family_measure("referral", code) for code in SHELTER_DESTINATIONS),
            protection="group",
            components=tuple(f"referral.{code}" for code in SHELTER_DESTINATIONS),
        ),
        Indicator(
            "referrals_treatment",
            _l("Orientations vers le soin en addictologie"),
            "Treatment referrals",
            _l("Orientations vers un CSAPA, une HSA ou des soins résidentiels."),
            "count",
            tuple(family_measure("referral", code) for code in TREATMENT_DESTINATIONS),
            protection="group",
            components=tuple(f"referral.{code}" for code in TREATMENT_DESTINATIONS),
        ),
    )


FAMILY_DEFINITIONS: dict[Family, LazyString] = {
    "need": _l(
        "Contacts où la personne a exprimé ce besoin (un contact peut en exprimer plusieurs)."
    ),
    "material": _l("Nombre d'articles de ce matériel remis pendant la période."),
    "referral": _l("Orientations vers cette destination faites pendant la période."),
}
FAMILY_TITLES: dict[Family, LazyString] = {
    "need": _l("Besoins exprimés"),
    "material": _l("Matériel remis"),
    "referral": _l("Orientations par destination"),
}


@dataclass(frozen=True, slots=True)
class TaxonomyEntry:
    code: str
    label_fr: str
    label_en: str


def family_indicator(family: Family, entry: TaxonomyEntry) -> Indicator:
    return Indicator(
        family_measure(family, entry.code),
        lazy_localized(entry.label_fr, entry.label_en),
        entry.label_en,
        FAMILY_DEFINITIONS[family],
        "count",
        (family_measure(family, entry.code),),
        headline=False,
    )


@dataclass(frozen=True, slots=True)
class Registry:
    """The indicators in force: the fixed ones and one per taxonomy code."""

    indicators: tuple[Indicator, ...]
    families: Mapping[Family, tuple[Indicator, ...]]

    def get(self, code: str) -> Indicator | None:
        return next((item for item in self.indicators if item.code == code), None)

    def __getitem__(self, code: str) -> Indicator:
        indicator = self.get(code)
        if indicator is None:
            raise KeyError(code)
        return indicator

    def __contains__(self, code: object) -> bool:
        return any(item.code == code for item in self.indicators)

    @property
    def codes(self) -> list[str]:
        return [indicator.code for indicator in self.indicators]

    @property
    def headline(self) -> tuple[Indicator, ...]:
        return tuple(item for item in self.indicators if item.headline)


def build_registry(taxonomies: Mapping[Family, Sequence[TaxonomyEntry]]) -> Registry:
    families = {
        family: tuple(family_indicator(family, entry) for entry in taxonomies.get(family, ()))
        for family in FAMILIES
    }
    fixed = _static()
    indicators = (
        *fixed[:9],
        *families["need"],
        *families["material"],
        *families["referral"],
        *fixed[9:],
    )
    return Registry(indicators, families)
