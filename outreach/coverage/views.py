"""The coverage board: thin views over coverage/services.py."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms.fields.choices import SelectChoice

from config import get_settings

from ..auth.access import current_association, roles_required
from ..auth.forms import CsrfOnlyForm
from ..clock import now_utc, to_paris
from ..extensions import db
from ..reports.periods import is_week, monday_of, shift_week, week_of_day
from ..vocabulary import COVERAGE_ROLES, SLOTS
from .forms import PlanForm
from .services import (
    DONE,
    MISSED,
    PLANNED,
    PlanError,
    cancel_plan,
    get_own_plan,
    plan_patrol,
    plannable_zones,
    slot_bounds,
    week_board,
)

bp = Blueprint("coverage", __name__, url_prefix="/coverage")

Page = str | WerkzeugResponse | tuple[str, int]


def _chosen_week(text: str | None) -> str:
    """The week asked for (ISO "2026-W10"), or the current one."""
    if text and is_week(text):
        return text
    return week_of_day(to_paris(now_utc()).date())


def _render(week: str, form: PlanForm | None, status: int = 200) -> tuple[str, int]:
    now = now_utc()
    monday = monday_of(week)
    board = week_board(db.session(), monday, now, get_settings(current_app).coverage_gap_nights)
    if form is None and current_user.role == "supervisor":
        form = _plan_form()
    today = to_paris(now).date()
    return render_template(
        "coverage/board.html",
        board=board,
        week=week,
        previous_week=shift_week(week, -1),
        next_week=shift_week(week, 1),
        current_week=week_of_day(today),
        form=form,
        cancel_form=CsrfOnlyForm(),
        own_association=current_user.association_id,
        cancellable=lambda day, slot: slot_bounds(day, slot)[1] > now,
        today=today,
        slots=SLOTS,
        statuses={DONE: _("faite"), PLANNED: _("prévue"), MISSED: _("manquée")},
    ), status


def _plan_form() -> PlanForm:
    form = PlanForm()
    form.zone.choices = [SelectChoice(zone.id, zone.name) for zone in plannable_zones(db.session())]
    return form


@bp.get("")
@roles_required(*COVERAGE_ROLES)
def board() -> Page:
    return _render(_chosen_week(request.args.get("week")), None)


@bp.post("/plans")
@roles_required("supervisor")
def plan() -> Page:
    current_association()
    form = _plan_form()
    planned: date | None = form.planned_date.data
    if form.validate_on_submit() and planned is not None and form.zone.data is not None:
        try:
            plan_patrol(
                db.session(),
                current_user,
                int(form.zone.data),
                planned,
                str(form.slot.data),
                now_utc(),
            )
        except PlanError as error:
            field = getattr(form, error.field, form.zone)
            field.errors = [*field.errors, error.message]
        else:
            flash(_("Tournée planifiée."), "success")
            return redirect(url_for(".board", week=week_of_day(planned)))
    week = week_of_day(planned) if planned else None
    return _render(_chosen_week(week), form, 422)


@bp.post("/plans/<row_id:plan_id>/cancel")
@roles_required("supervisor")
def cancel(plan_id: int) -> Page:
    association = current_association()
    plan = get_own_plan(db.session(), association.id, plan_id)
    if plan is None:
        abort(404)
    week = week_of_day(plan.planned_date)
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
    try:
        cancel_plan(db.session(), current_user, plan, now_utc())
    except PlanError as error:
        flash(str(error.message), "error")
        return redirect(url_for(".board", week=week))
    flash(_("Tournée planifiée annulée."), "success")
    return redirect(url_for(".board", week=week))
