"""Every figure of the activity report, defined once: its code, label and definition.

The page shows these texts beside the figures, the workbook carries them on a sheet of
their own, and the CSV names its rows by the codes (docs/exports.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString


@dataclass(frozen=True, slots=True)
class Measure:
    """A column of a section: what its numbers count."""

    code: str
    label: LazyString


@dataclass(frozen=True, slots=True)
class Total:
    """One of the report's headline figures."""

    code: str
    label: LazyString
    definition: LazyString


@dataclass(frozen=True, slots=True)
class SectionText:
    code: str
    title: LazyString  # also the workbook's sheet name: 31 characters at most
    definition: LazyString
    measures: tuple[Measure, ...]


VALUE = Measure("value", _l("Valeur"))
PEOPLE = Measure("people", _l("Personnes"))
CONTACTS = Measure("contacts", _l("Contacts"))
PATROLS = Measure("patrols", _l("Tournées"))
PATROL_HOURS = Measure("patrol_hours", _l("Heures de tournée"))
ITEMS = Measure("items", _l("Articles"))
REFERRALS = Measure("referrals", _l("Orientations"))
ACCOMPANIED = Measure("accompanied", _l("Accompagnées"))

TOTALS: tuple[Total, ...] = (
    Total(
        "contacts",
        _l("Contacts"),
        _l("Rencontres enregistrées pendant la période, avec ou sans code de la personne."),
    ),
    Total(
        "contacts_identified",
        _l("Contacts avec code"),
        _l("Contacts où la personne a donné son code : eux seuls comptent comme personnes."),
    ),
    Total(
        "people_distinct",
        _l("File active (personnes distinctes)"),
        _l(
            "Personnes différentes rencontrées pendant la période, reconnues par le pseudonyme "
            "de leur code propre à l'association : chacune compte une fois, quel que soit le "
            "nombre de contacts."
        ),
    ),
    Total(
        "people_new",
        _l("Nouvelles personnes"),
        _l(
            "Personnes de la file active dont le premier contact connu avec l'association "
            "tombe dans la période (aucun contact avant, parmi ceux que l'association garde : "
            "un code purgé après la durée de conservation redevient nouveau)."
        ),
    ),
    Total(
        "contacts_anonymous",
        _l("Contacts anonymes"),
        _l(
            "Contacts sans code de la personne, comptés à part : on ne peut pas savoir si deux "
            "contacts anonymes sont la même personne, ils ne sont donc pas dédoublonnés et "
            "n'entrent dans aucun chiffre de personnes."
        ),
    ),
    Total(
        "contacts_anonymous_first",
        _l("Contacts anonymes « premier contact »"),
        _l(
            "Contacts anonymes que l'équipe a déclarés « première rencontre ». Ce ne sont pas "
            "des personnes dédoublonnées : ils ne s'ajoutent pas aux nouvelles personnes."
        ),
    ),
    Total(
        "patrols",
        _l("Tournées"),
        _l("Tournées de l'association commencées pendant la période (heure de Paris)."),
    ),
    Total(
        "patrol_hours",
        _l("Heures de tournée"),
        _l(
            "Durée cumulée de ces tournées, du début à la fin, quel que soit le nombre "
            "d'intervenant·es ; une tournée pas encore terminée ne compte pas."
        ),
    ),
    Total(
        "material_items",
        _l("Matériel remis (articles)"),
        _l("Nombre total d'articles de matériel remis pendant les contacts de la période."),
    ),
    Total(
        "referrals",
        _l("Orientations"),
        _l("Orientations faites pendant les contacts de la période."),
    ),
    Total(
        "referrals_accompanied",
        _l("Orientations accompagnées"),
        _l("Orientations de la période où un·e intervenant·e accompagne la personne."),
    ),
)

_PER_PERSON = _l(
    "Chaque personne de la file active compte une fois, avec sa dernière valeur connue "
    "pendant la période : celle de son contact le plus récent où elle est renseignée, sinon "
    "« Non renseigné ». Contacts anonymes exclus."
)

SECTIONS: dict[str, SectionText] = {
    section.code: section
    for section in (
        SectionText(
            "totals",
            _l("Synthèse"),
            _l("Les chiffres principaux de la période."),
            (VALUE,),
        ),
        SectionText("gender", _l("Personnes par genre"), _PER_PERSON, (PEOPLE,)),
        SectionText("age_band", _l("Personnes par âge"), _PER_PERSON, (PEOPLE,)),
        SectionText("housing", _l("Personnes par hébergement"), _PER_PERSON, (PEOPLE,)),
        SectionText(
            "frequency",
            _l("Fréquence des rencontres"),
            _l(
                "Personnes de la file active selon leur nombre de contacts avec l'association "
                "pendant la période : une fois, de 2 à 4 fois, 5 fois ou plus."
            ),
            (PEOPLE,),
        ),
        SectionText(
            "zone",
            _l("Activité par zone"),
            _l(
                "Contacts dans la zone ; tournées commencées dans la zone et leur durée "
                "cumulée (tournées terminées). Une zone désactivée apparaît si elle a de "
                "l'activité dans la période."
            ),
            (CONTACTS, PATROLS, PATROL_HOURS),
        ),
        SectionText(
            "material",
            _l("Matériel remis par type"),
            _l(
                "Somme des quantités remises pendant les contacts de la période, par type de "
                "matériel."
            ),
            (ITEMS,),
        ),
        SectionText(
            "referral_destination",
            _l("Orientations par destination"),
            _l(
                "Orientations faites pendant la période, par destination, et celles où un·e "
                "intervenant·e accompagne la personne."
            ),
            (REFERRALS, ACCOMPANIED),
        ),
        SectionText(
            "referral_status",
            _l("Orientations par statut"),
            _l(
                "Orientations faites pendant la période, selon leur statut actuel (même si "
                "le rendez-vous a eu lieu après la période)."
            ),
            (REFERRALS,),
        ),
    )
}

FREQUENCY_BANDS: dict[str, LazyString] = {
    "once": _l("Vue une fois"),
    "2_to_4": _l("Vue de 2 à 4 fois"),
    "5_or_more": _l("Vue 5 fois ou plus"),
}

MODALITY_NOTE = _l(
    "Les modalités d'intervention (maraude de rue, session en extérieur, squat ou campement, "
    "lieu fixe) ne sont pas encore saisies : ce rapport ne peut pas ventiler l'activité par "
    "modalité, seulement par zone."
)
