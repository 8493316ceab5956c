"""Find a person again by their code and follow their referrals."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from config import get_settings

from ..auth.access import SESSION_USER_KEY, current_association, roles_required
from ..auth.sessions import followup_pseudonym, set_followup_pseudonym
from ..auth.throttle import budgeted
from ..capture.services import taxonomy_labels
from ..capture.validation import code_message
from ..clock import now_utc
from ..extensions import db
from ..i18n import current_language
from ..vocabulary import CAPTURE_ROLES, REFERRAL_STATUSES
from .forms import FindPersonForm, ReferralStatusForm
from .queue import NEXT_STEPS, OverdueDelays, open_referrals, overdue_count
from .services import (
    TransitionError,
    association_pseudonym,
    get_referral,
    next_statuses,
    person_history,
    person_known,
    person_reference,
    record_lookup,
    update_referral_status,
)

bp = Blueprint("followup", __name__, url_prefix="/followup")

Page = str | WerkzeugResponse | tuple[str | WerkzeugResponse, int]


@bp.route("", methods=["GET", "POST"])
@roles_required(*CAPTURE_ROLES)
@budgeted
def find() -> Page:
    form = FindPersonForm()
    if form.validate_on_submit():
        settings = get_settings(current_app)
        association = current_association()
        pseudonym = association_pseudonym(
            settings.pseudonym_key, association, form.person_code.data or ""
        )
        if isinstance(pseudonym, str):
            found = person_known(db.session(), association.id, pseudonym)
            record_lookup(db.session(), current_user, association, found)
            set_followup_pseudonym(db.session(), _session_token(), pseudonym)
            return redirect(url_for("followup.person"))
        form.person_code.errors = [str(code_message(pseudonym))]
    status = 422 if form.is_submitted() else 200
    return render_template("followup/find.html", form=form), status


@bp.get("/person")
@roles_required(*CAPTURE_ROLES)
def person() -> Page:
    pseudonym = followup_pseudonym(db.session(), _session_token())
    if pseudonym is None:
        return redirect(url_for("followup.find"))
    contacts = person_history(db.session(), current_association().id, pseudonym)
    return render_template(
        "followup/person.html",
        contacts=contacts,
        reference=person_reference(pseudonym),
        next_statuses=next_statuses,
        statuses=REFERRAL_STATUSES,
        labels=taxonomy_labels(db.session(), current_language()),
        status_form=ReferralStatusForm(),
    )


def _session_token() -> str:
    """This login's server-side session id (the cookie's only content)."""
    return str(session.get(SESSION_USER_KEY, ""))


@bp.post("/referrals/<big_row_id:referral_id>/status")
@roles_required(*CAPTURE_ROLES)
def referral_status(referral_id: int) -> Page:
    return _change_status(referral_id, url_for("followup.person"))


@bp.get("/queue")
@roles_required(*CAPTURE_ROLES)
def queue() -> Page:
    association_id = current_association().id
    delays = OverdueDelays.from_settings(get_settings(current_app))
    now = now_utc()
    return render_template(
        "followup/queue.html",
        items=open_referrals(db.session(), association_id, delays, now),
        # counted apart, as on the patrols home: the list stops at QUEUE_LIMIT
        overdue=overdue_count(db.session(), association_id, delays, now),
        statuses=REFERRAL_STATUSES,
        next_steps=NEXT_STEPS,
        labels=taxonomy_labels(db.session(), current_language()),
    )


@bp.post("/queue/referrals/<big_row_id:referral_id>/status")
@roles_required(*CAPTURE_ROLES)
def queue_status(referral_id: int) -> Page:
    return _change_status(referral_id, url_for("followup.queue"))


def _change_status(referral_id: int, back: str) -> Page:
    """Move one of the association's referrals on, then back to the page it came from."""
    referral = get_referral(db.session(), current_association().id, referral_id)
    if referral is None:
        abort(404)
    form = ReferralStatusForm()
    if not form.validate_on_submit():
        flash(_("Statut inconnu."), "error")
        return redirect(back)
    try:
        update_referral_status(
            db.session(),
            referral,
            form.status.data or "",
            current_user,
            current_association().id,
            now_utc(),
        )
    except TransitionError:
        flash(_("Ce changement de statut n'est pas possible."), "error")
        return redirect(back)
    flash(
        _("Orientation mise à jour : %(status)s.", status=REFERRAL_STATUSES[referral.status]),
        "success",
    )
    return redirect(back)
