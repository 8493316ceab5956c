"""Administration (admins only): overview, associations, zones, taxonomies.

Views stay thin: forms check formats, services.py checks uniqueness, changes and audits.
An unknown id or code answers 404; a refused form comes back with its errors tied to its
fields (422) and nothing changed. Accounts live under /accounts, targets under
/summary/targets: the overview links to them.
"""

from __future__ import annotations

import re

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms.fields.choices import SelectChoice

from ..auth.access import roles_required
from ..auth.forms import ActiveForm
from ..clock import now_utc
from ..extensions import db
from ..models import Association, Material, User, Zone
from ..vocabulary import MATERIAL_CATEGORIES, ROLES
from .forms import (
    DEPARTEMENTS,
    AssociationForm,
    AssociationRenameForm,
    EntryForm,
    LabelsForm,
    MaterialEntryForm,
    MaterialLabelsForm,
    MoveForm,
    ZoneEditForm,
    ZoneForm,
)
from .services import (
    TAXONOMIES,
    AdminError,
    Direction,
    Taxonomy,
    TaxonomyEntry,
    add_entry,
    associations_overview,
    create_association,
    create_zone,
    entries,
    get_entry,
    move_entry,
    move_zone,
    platform_accounts,
    relabel_entry,
    rename_association,
    set_association_active,
    set_entry_active,
    set_zone_active,
    update_zone,
    zone_list,
)

bp = Blueprint("admin", __name__, url_prefix="/admin")

Page = str | WerkzeugResponse | tuple[str, int]
# A code in a URL is looked up only if it could be one (PostgreSQL refuses NUL bytes).
CODE_IN_URL = re.compile(r"[a-z0-9_]{1,40}")
TAXONOMY_TITLES: dict[str, LazyString] = {
    "needs": _l("Besoins"),
    "materials": _l("Matériel"),
    "destinations": _l("Destinations d'orientation"),
}


def _actor() -> User:
    user: User = current_user._get_current_object()
    return user


def _status(form: FlaskForm) -> int:
    return 422 if form.is_submitted() else 200


def _refuse(form: FlaskForm, error: AdminError) -> None:
    field = form._fields.get(error.field)
    if field is None:
        flash(str(error.message), "error")
    else:
        field.errors = [*field.errors, error.message]


def _taxonomy_or_404(kind: str) -> Taxonomy:
    taxonomy = TAXONOMIES.get(kind)
    if taxonomy is None:
        abort(404)
    return taxonomy


def _entry_or_404(taxonomy: Taxonomy, code: str) -> TaxonomyEntry:
    entry = get_entry(db.session(), taxonomy, code) if CODE_IN_URL.fullmatch(code) else None
    if entry is None:
        abort(404)
    return entry


def _unknown_action() -> None:
    flash(_("Action inconnue : rechargez la page."), "error")


@bp.get("")
@roles_required("admin")
def home() -> str:
    return render_template(
        "admin/home.html",
        associations=associations_overview(db.session()),
        accounts=platform_accounts(db.session()),
        zones=zone_list(db.session()),
        roles=ROLES,
        taxonomies=TAXONOMY_TITLES,
    )


# --- associations ------------------------------------------------------------------------


def _associations_page(form: AssociationForm, status: int) -> tuple[str, int]:
    return render_template(
        "admin/associations.html",
        form=form,
        associations=associations_overview(db.session()),
        roles=ROLES,
    ), status


@bp.route("/associations", methods=["GET", "POST"])
@roles_required("admin")
def associations() -> Page:
    form = AssociationForm()
    if form.validate_on_submit():
        try:
            association = create_association(
                db.session(), _actor(), form.slug.data or "", form.name.data or ""
            )
        except AdminError as error:
            _refuse(form, error)
        else:
            flash(_("Association « %(name)s » créée.", name=association.name), "success")
            return redirect(url_for("admin.associations", _anchor=f"association-{association.id}"))
    return _associations_page(form, _status(form))


@bp.route("/associations/<row_id:association_id>", methods=["GET", "POST"])
@roles_required("admin")
def association(association_id: int) -> Page:
    association = db.get_or_404(Association, association_id)
    form = AssociationRenameForm(obj=association)
    if form.validate_on_submit():
        try:
            changed = rename_association(db.session(), _actor(), association, form.name.data or "")
        except AdminError as error:
            _refuse(form, error)
        else:
            if changed:
                flash(_("Association renommée : %(name)s.", name=association.name), "success")
            return redirect(url_for("admin.associations", _anchor=f"association-{association.id}"))
    return render_template("admin/association.html", form=form, association=association), _status(
        form
    )


@bp.post("/associations/<row_id:association_id>/active")
@roles_required("admin")
def association_active(association_id: int) -> Page:
    association = db.get_or_404(Association, association_id)
    form = ActiveForm()
    if not form.validate_on_submit():
        _unknown_action()
        return _associations_page(AssociationForm(formdata=None), 422)
    active = form.active.data == "1"
    if set_association_active(db.session(), _actor(), association, active, now_utc()):
        if active:
            flash(_("Association « %(name)s » réactivée.", name=association.name), "success")
        else:
            flash(
                _(
                    "Association « %(name)s » désactivée : ses comptes ne peuvent plus se "
                    "connecter, son historique reste dans les rapports.",
                    name=association.name,
                ),
                "success",
            )
    return redirect(url_for("admin.associations", _anchor=f"association-{association.id}"))


# --- zones -------------------------------------------------------------------------------


def _zones_page(form: ZoneForm, status: int) -> tuple[str, int]:
    return render_template(
        "admin/zones.html",
        form=form,
        zones=zone_list(db.session()),
        departements=DEPARTEMENTS,
    ), status


@bp.route("/zones", methods=["GET", "POST"])
@roles_required("admin")
def zones() -> Page:
    form = ZoneForm()
    if form.validate_on_submit():
        try:
            zone = create_zone(
                db.session(),
                _actor(),
                form.code.data or "",
                form.name.data or "",
                form.departement.data or "",
            )
        except AdminError as error:
            _refuse(form, error)
        else:
            flash(_("Zone « %(name)s » créée.", name=zone.name), "success")
            return redirect(url_for("admin.zones", _anchor=f"zone-{zone.id}"))
    return _zones_page(form, _status(form))


@bp.route("/zones/<row_id:zone_id>", methods=["GET", "POST"])
@roles_required("admin")
def zone(zone_id: int) -> Page:
    zone = db.get_or_404(Zone, zone_id)
    form = ZoneEditForm(obj=zone)
    if zone.departement not in DEPARTEMENTS:  # set before this list existed: keep it choosable
        form.departement.choices = [
            SelectChoice(zone.departement, zone.departement),
            *(form.departement.choices or []),
        ]
    if form.validate_on_submit():
        try:
            changed = update_zone(
                db.session(), _actor(), zone, form.name.data or "", form.departement.data or ""
            )
        except AdminError as error:
            _refuse(form, error)
        else:
            if changed:
                flash(_("Zone « %(name)s » modifiée.", name=zone.name), "success")
            return redirect(url_for("admin.zones", _anchor=f"zone-{zone.id}"))
    return render_template("admin/zone.html", form=form, zone=zone), _status(form)


@bp.post("/zones/<row_id:zone_id>/move")
@roles_required("admin")
def zone_move(zone_id: int) -> Page:
    zone = db.get_or_404(Zone, zone_id)
    form = MoveForm()
    if not form.validate_on_submit():
        _unknown_action()
        return _zones_page(ZoneForm(formdata=None), 422)
    direction: Direction = "up" if form.direction.data == "up" else "down"
    move_zone(db.session(), _actor(), zone, direction)
    return redirect(url_for("admin.zones", _anchor=f"zone-{zone.id}"))


@bp.post("/zones/<row_id:zone_id>/active")
@roles_required("admin")
def zone_active(zone_id: int) -> Page:
    zone = db.get_or_404(Zone, zone_id)
    form = ActiveForm()
    if not form.validate_on_submit():
        _unknown_action()
        return _zones_page(ZoneForm(formdata=None), 422)
    if set_zone_active(db.session(), _actor(), zone, form.active.data == "1"):
        if zone.active:
            flash(_("Zone « %(name)s » réactivée.", name=zone.name), "success")
        else:
            flash(
                _(
                    "Zone « %(name)s » désactivée : elle n'est plus proposée à la saisie, "
                    "ses contacts passés restent dans les rapports et les exports.",
                    name=zone.name,
                ),
                "success",
            )
    return redirect(url_for("admin.zones", _anchor=f"zone-{zone.id}"))


# --- taxonomies --------------------------------------------------------------------------


def _new_entry_form(taxonomy: Taxonomy, formdata: bool = True) -> EntryForm | MaterialEntryForm:
    options = {} if formdata else {"formdata": None}
    return MaterialEntryForm(**options) if taxonomy.model is Material else EntryForm(**options)


def _taxonomy_page(
    taxonomy: Taxonomy, form: EntryForm | MaterialEntryForm, status: int
) -> tuple[str, int]:
    return render_template(
        "admin/taxonomy.html",
        taxonomy=taxonomy,
        title=TAXONOMY_TITLES[taxonomy.slug],
        form=form,
        entries=entries(db.session(), taxonomy),
        categories=MATERIAL_CATEGORIES,
    ), status


def _category(form: FlaskForm) -> str | None:
    return form.category.data if isinstance(form, MaterialLabelsForm) else None


@bp.route("/taxonomies/<kind>", methods=["GET", "POST"])
@roles_required("admin")
def taxonomy(kind: str) -> Page:
    taxonomy = _taxonomy_or_404(kind)
    form = _new_entry_form(taxonomy)
    if form.validate_on_submit():
        try:
            entry = add_entry(
                db.session(),
                _actor(),
                taxonomy,
                form.code.data or "",
                form.label_fr.data or "",
                form.label_en.data or "",
                _category(form),
            )
        except AdminError as error:
            _refuse(form, error)
        else:
            flash(_("« %(label)s » ajouté.", label=entry.label_fr), "success")
            return redirect(url_for("admin.taxonomy", kind=kind, _anchor=f"entry-{entry.code}"))
    return _taxonomy_page(taxonomy, form, _status(form))


@bp.route("/taxonomies/<kind>/<code>", methods=["GET", "POST"])
@roles_required("admin")
def entry(kind: str, code: str) -> Page:
    taxonomy = _taxonomy_or_404(kind)
    entry = _entry_or_404(taxonomy, code)
    form: LabelsForm = (
        MaterialLabelsForm(obj=entry) if taxonomy.model is Material else LabelsForm(obj=entry)
    )
    if form.validate_on_submit():
        try:
            changed = relabel_entry(
                db.session(),
                _actor(),
                taxonomy,
                entry,
                form.label_fr.data or "",
                form.label_en.data or "",
                _category(form),
            )
        except AdminError as error:
            _refuse(form, error)
        else:
            if changed:
                flash(_("« %(label)s » modifié.", label=entry.label_fr), "success")
            return redirect(url_for("admin.taxonomy", kind=kind, _anchor=f"entry-{entry.code}"))
    return render_template(
        "admin/entry.html",
        taxonomy=taxonomy,
        title=TAXONOMY_TITLES[taxonomy.slug],
        entry=entry,
        form=form,
    ), _status(form)


@bp.post("/taxonomies/<kind>/<code>/move")
@roles_required("admin")
def entry_move(kind: str, code: str) -> Page:
    taxonomy = _taxonomy_or_404(kind)
    entry = _entry_or_404(taxonomy, code)
    form = MoveForm()
    if not form.validate_on_submit():
        _unknown_action()
        return _taxonomy_page(taxonomy, _new_entry_form(taxonomy, formdata=False), 422)
    direction: Direction = "up" if form.direction.data == "up" else "down"
    move_entry(db.session(), _actor(), taxonomy, entry, direction)
    return redirect(url_for("admin.taxonomy", kind=kind, _anchor=f"entry-{entry.code}"))


@bp.post("/taxonomies/<kind>/<code>/active")
@roles_required("admin")
def entry_active(kind: str, code: str) -> Page:
    taxonomy = _taxonomy_or_404(kind)
    entry = _entry_or_404(taxonomy, code)
    form = ActiveForm()
    if not form.validate_on_submit():
        _unknown_action()
        return _taxonomy_page(taxonomy, _new_entry_form(taxonomy, formdata=False), 422)
    if set_entry_active(db.session(), _actor(), taxonomy, entry, form.active.data == "1"):
        if entry.active:
            flash(_("« %(label)s » est de nouveau proposé.", label=entry.label_fr), "success")
        else:
            flash(
                _(
                    "« %(label)s » retiré : il n'est plus proposé à la saisie, les contacts "
                    "passés et leurs exports le gardent.",
                    label=entry.label_fr,
                ),
                "success",
            )
    return redirect(url_for("admin.taxonomy", kind=kind, _anchor=f"entry-{entry.code}"))
