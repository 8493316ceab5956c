"""The worker's journey: start a patrol, log contacts on one screen, end the patrol."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import or_, select
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms.fields.choices import SelectChoice

from config import get_settings

from ..auth.access import current_association, roles_required
from ..auth.forms import CsrfOnlyForm
from ..clock import now_utc, to_paris
from ..coverage.services import tonight_plans
from ..db import writes_idempotently
from ..extensions import db
from ..followup.queue import OverdueDelays, overdue_count
from ..i18n import current_language
from ..models import Contact, Material, Need, Patrol, ReferralDestination, Zone
from ..routing import big_row_id
from ..vocabulary import AGE_BANDS, CAPTURE_ROLES, GENDERS, HOUSING, MATERIAL_CATEGORIES
from .code_seal import public_key
from .forms import (
    REFERRAL_SLOTS,
    EndPatrolForm,
    StartPatrolForm,
    contact_payload_from_form,
    contact_payload_from_record,
    scrub_person_code,
)
from .services import (
    Outcome,
    PatrolReport,
    active_zones,
    can_edit,
    end_patrol,
    get_contact,
    get_patrol,
    load_capture_options,
    open_patrol_of,
    patrol_contact_count,
    patrol_holds_contact,
    recent_contacts,
    record_contact,
    start_patrol,
    taxonomy_labels,
    team_members,
    update_contact,
)
from .validation import (
    ContactDraft,
    Errors,
    PatrolAccess,
    phone_check_messages,
    validate_contact,
)

bp = Blueprint("capture", __name__)

Page = str | WerkzeugResponse | tuple[str, int]
LOCAL_INPUT_FORMAT = "%Y-%m-%dT%H:%M"


def _patrol_or_404(patrol_id: int) -> Patrol:
    patrol = get_patrol(db.session(), current_association().id, patrol_id)
    if patrol is None:
        abort(404)
    return patrol


def _require_open_membership(patrol: Patrol) -> None:
    if not patrol.is_open:
        access = PatrolAccess.CLOSED
    else:
        access = PatrolAccess.MEMBER if patrol.has_member(current_user) else PatrolAccess.NOT_MEMBER
    _require_access(patrol.id, access)


def _require_access(patrol_id: int, access: PatrolAccess | None) -> None:
    """Not a patrol of the association (None): 404; ended: back to it; not in it: 403."""
    if access is None:
        abort(404)
    if access is PatrolAccess.CLOSED:
        flash(_("Cette tournée est terminée."), "error")
        abort(redirect(url_for("capture.patrol", patrol_id=patrol_id)))
    if access is not PatrolAccess.MEMBER:
        abort(403)


@bp.get("/patrols")
@roles_required(*CAPTURE_ROLES)
def home() -> Page:
    association = current_association()
    recent = db.session.scalars(
        select(Patrol)
        .where(Patrol.association_id == association.id)
        .order_by(Patrol.started_at.desc())
        .limit(8)
    ).all()
    return render_template(
        "capture/home.html",
        open_patrol=open_patrol_of(db.session(), current_user),
        recent=recent,
        overdue_referrals=overdue_count(
            db.session(),
            association.id,
            OverdueDelays.from_settings(get_settings(current_app)),
            now_utc(),
        ),
        tonight=tonight_plans(db.session(), association.id, now_utc()),
    )


@bp.route("/patrols/new", methods=["GET", "POST"])
@roles_required(*CAPTURE_ROLES)
def new_patrol() -> Page:
    association = current_association()
    existing = open_patrol_of(db.session(), current_user)
    if existing is not None:
        flash(_("Vous êtes déjà dans une tournée en cours."), "info")
        return redirect(url_for("capture.patrol", patrol_id=existing.id))
    form = StartPatrolForm()
    zones = active_zones(db.session())
    members = [m for m in team_members(db.session(), association.id) if m.id != current_user.id]
    form.zone.choices = [SelectChoice(zone.id, zone.name) for zone in zones]
    form.members.choices = [SelectChoice(member.id, member.display_name) for member in members]
    if form.validate_on_submit():
        zone = db.session.get(Zone, form.zone.data)
        if zone is None or not zone.active:
            abort(400)
        patrol = start_patrol(
            db.session(), association, zone, current_user, form.members.data or [], now_utc()
        )
        flash(_("Tournée commencée. Bonne maraude !"), "success")
        return redirect(url_for("capture.patrol", patrol_id=patrol.id))
    status = 422 if form.is_submitted() else 200
    return render_template("capture/new_patrol.html", form=form), status


# What the patrol page says after a save (new_contact), by the parameter naming the
# contact: (category, message), as flashed messages are.
SAVE_NOTES = {
    "saved": ("success", _l("Contact enregistré.")),
    "unchanged": ("info", _l("Ce contact était déjà enregistré : rien n'a été ajouté.")),
}


def _save_note(patrol: Patrol) -> tuple[str, str] | None:
    """The note for a contact just saved in this patrol; nothing for an id it does not hold."""
    for parameter, (category, message) in SAVE_NOTES.items():
        contact_id = request.args.get(parameter, type=big_row_id)
        if contact_id is not None and patrol_holds_contact(db.session(), patrol, contact_id):
            return category, str(message)
    return None


@bp.get("/patrols/<row_id:patrol_id>")
@roles_required(*CAPTURE_ROLES)
def patrol(patrol_id: int) -> Page:
    patrol = _patrol_or_404(patrol_id)
    contacts = recent_contacts(db.session(), patrol)
    return render_template(
        "capture/patrol.html",
        page_note=_save_note(patrol),
        patrol=patrol,
        count=patrol_contact_count(db.session(), patrol),
        contacts=contacts,
        editable={contact.id for contact in contacts if can_edit(contact, current_user)},
        labels=taxonomy_labels(db.session(), current_language()),
        is_member=patrol.has_member(current_user),
        csrf_form=CsrfOnlyForm(),
    )


def _form_choices(contact: Contact | None) -> dict[str, Any]:
    """Active entries; a contact being corrected also keeps the retired ones it holds."""
    held_needs = [item.need_code for item in contact.needs] if contact else []
    held_materials = [item.material_code for item in contact.materials] if contact else []
    held_destinations = [item.destination_code for item in contact.referrals] if contact else []
    materials = db.session.scalars(
        select(Material)
        .where(or_(Material.active.is_(True), Material.code.in_(held_materials)))
        .order_by(Material.position)
    ).all()
    zones = list(active_zones(db.session()))
    if contact is not None and not contact.zone.active:
        zones.append(contact.zone)
    return {
        "zones": zones,
        "needs": db.session.scalars(
            select(Need)
            .where(or_(Need.active.is_(True), Need.code.in_(held_needs)))
            .order_by(Need.position)
        ).all(),
        "material_groups": [
            (label, [m for m in materials if m.category == category])
            for category, label in MATERIAL_CATEGORIES.items()
        ],
        "destinations": db.session.scalars(
            select(ReferralDestination)
            .where(
                or_(
                    ReferralDestination.active.is_(True),
                    ReferralDestination.code.in_(held_destinations),
                )
            )
            .order_by(ReferralDestination.position)
        ).all(),
        "genders": GENDERS,
        "age_bands": AGE_BANDS,
        "housing": HOUSING,
        "referral_slots": range(REFERRAL_SLOTS),
    }


def _render_contact_form(
    patrol: Patrol,
    values: Mapping[str, Any],
    errors: Errors,
    *,
    contact: Contact | None = None,
    status: int = 200,
) -> tuple[str, int]:
    return (
        render_template(
            "capture/contact_form.html",
            patrol=patrol,
            contact=contact,
            values=values,
            errors=errors,
            code_was_given=bool(request.form.get("person_code", "").strip()),
            phone_checks=phone_check_messages(),
            person_code_key=public_key(get_settings(current_app).pseudonym_key),
            **_form_choices(contact),
        ),
        status,
    )


def _validate_form(
    association_id: int, patrol_id: int
) -> tuple[ContactDraft | None, Errors, dict[str, Any], PatrolAccess | None]:
    """The posted contact validated, and the user's access to its patrol (same query)."""
    payload = contact_payload_from_form(request.form, patrol_id)
    options = load_capture_options(
        db.session(), association_id, [patrol_id], [payload["id"]], member_id=current_user.id
    )
    draft, errors = validate_contact(payload, options, now_utc())
    return draft, errors, payload, options.patrols.get(patrol_id)


@bp.route("/patrols/<row_id:patrol_id>/contacts/new", methods=["GET", "POST"])
@roles_required(*CAPTURE_ROLES)
@writes_idempotently
def new_contact(patrol_id: int) -> Page:
    if request.method == "GET":
        patrol = _patrol_or_404(patrol_id)
        _require_open_membership(patrol)
        values = {
            "id": str(uuid.uuid4()),  # the form carries its id: a double tap saves once
            "occurred_at": to_paris(now_utc()).strftime(LOCAL_INPUT_FORMAT),
            "zone": patrol.zone.code,
        }
        return _render_contact_form(patrol, values, {})

    # The patrol is checked by the query that validation runs anyway; it is loaded only
    # to show the form again.
    association = current_association()
    draft, errors, payload, access = _validate_form(association.id, patrol_id)
    _require_access(patrol_id, access)
    if draft is None:
        return _render_contact_form(
            _patrol_or_404(patrol_id), scrub_person_code(payload), errors, status=422
        )
    result = record_contact(
        db.session(),
        draft,
        current_user,
        association,
        get_settings(current_app).pseudonym_key,
        now_utc(),
    )
    if result.outcome is Outcome.CONFLICT:
        errors = {"id": [_("Ce contact a déjà été enregistré avec d'autres informations.")]}
        return _render_contact_form(
            _patrol_or_404(patrol_id),
            scrub_person_code(payload),
            errors,
            contact=get_contact(db.session(), association.id, result.contact_id),
            status=409,
        )
    # Said by the patrol page from its address, not flashed: a flash rewrites and resends
    # the session cookie, on this answer and on the next page (docs/perf-history.md).
    outcome = "saved" if result.outcome is Outcome.CREATED else "unchanged"
    note: dict[str, Any] = {outcome: result.contact_id}
    return redirect(url_for("capture.patrol", patrol_id=patrol_id, **note))


@bp.route("/contacts/<big_row_id:contact_id>/edit", methods=["GET", "POST"])
@roles_required(*CAPTURE_ROLES)
def edit_contact(contact_id: int) -> Page:
    association = current_association()
    contact = get_contact(
        db.session(), association.id, contact_id, for_update=request.method == "POST"
    )
    if contact is None:
        abort(404)
    patrol = contact.patrol
    if patrol is None or not can_edit(contact, current_user):
        flash(_("Ce contact ne peut plus être modifié."), "error")
        return redirect(url_for("capture.home"))
    if request.method == "GET":
        local_time = to_paris(contact.occurred_at).strftime(LOCAL_INPUT_FORMAT)
        return _render_contact_form(
            patrol, contact_payload_from_record(contact, local_time), {}, contact=contact
        )

    draft, errors, payload, _access = _validate_form(association.id, patrol.id)
    if draft is not None and draft.client_id != contact.client_id:
        draft, errors = None, {"id": [_("Identifiant modifié : rechargez le formulaire.")]}
    if draft is None:
        return _render_contact_form(
            patrol, scrub_person_code(payload), errors, contact=contact, status=422
        )
    update_contact(
        db.session(),
        contact,
        draft,
        current_user,
        association,
        get_settings(current_app).pseudonym_key,
        now_utc(),
    )
    flash(_("Contact modifié."), "success")
    return redirect(url_for("capture.patrol", patrol_id=patrol.id))


@bp.route("/patrols/<row_id:patrol_id>/end", methods=["GET", "POST"])
@roles_required(*CAPTURE_ROLES)
def end(patrol_id: int) -> Page:
    patrol = _patrol_or_404(patrol_id)
    _require_open_membership(patrol)
    form = EndPatrolForm()
    if form.validate_on_submit():
        report = PatrolReport(
            people_seen_not_met=form.people_seen_not_met.data or 0,
            atmosphere=form.atmosphere.data or "",
            used_material_collected=form.used_material_collected.data or 0,
            site_observations=form.site_observations.data or "",
        )
        end_patrol(db.session(), patrol, report, now_utc())
        flash(_("Tournée terminée. Merci !"), "success")
        return redirect(url_for("capture.home"))
    status = 422 if form.is_submitted() else 200
    return render_template(
        "capture/end_patrol.html",
        form=form,
        patrol=patrol,
        count=patrol_contact_count(db.session(), patrol),
    ), status
