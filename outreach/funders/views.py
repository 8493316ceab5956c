"""The funders' summary (aggregates only, protected), its CSV, and the admin's targets."""

from __future__ import annotations

from collections.abc import Sequence

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms.fields.choices import SelectChoice

from ..audit import audit
from ..auth.access import roles_required
from ..extensions import db
from ..reports.csv_export import csv_lines
from ..reports.formatting import format_value
from ..reports.indicators import FAMILY_TITLES
from ..reports.presenters import published_trend_chart
from ..reports.services import FundersSummary, funders_summary, load_registry
from .forms import TARGET_PERIOD_LABELS, TargetForm
from .services import (
    SUMMARY_HEADER,
    PeriodChoices,
    period_choices,
    perturbation_table,
    set_target,
    summary_filename,
    summary_rows,
    targets,
)

bp = Blueprint("funders", __name__, url_prefix="/summary")

FUNDER_ROLES = ("funder", "admin")


def _summary_from_request(
    breakdowns: Sequence[str] | None,
) -> tuple[PeriodChoices, FundersSummary]:
    choices = period_choices(db.session(), request.args.get("period"))
    if choices is None:
        abort(404)
    summary = funders_summary(db.session(), choices.chosen, perturbation_table(), breakdowns)
    return choices, summary


@bp.get("")
@roles_required(*FUNDER_ROLES)
def summary() -> str:
    breakdown = request.args.get("indicator", "contacts")
    choices, data = _summary_from_request([breakdown])
    if breakdown not in data.registry:
        abort(404)
    return render_template(
        "funders/summary.html",
        choices=choices,
        data=data,
        breakdown=data.registry[breakdown],
        trend_charts={
            code: published_trend_chart(data.registry[code], data.trend_weeks, cells)
            for code, cells in data.trends.items()
        },
        family_titles=FAMILY_TITLES,
        format_value=format_value,
    )


@bp.get("/export.csv")
@roles_required(*FUNDER_ROLES)
def export() -> Response:
    _, data = _summary_from_request(None)
    rows = list(summary_rows(data))
    audit(
        db.session(),
        "export",
        actor=current_user._get_current_object(),
        period=data.period.key,
        period_kind=data.period.kind,
        kind="summary",
        rows=len(rows),
    )
    response = Response(csv_lines(SUMMARY_HEADER, rows), mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{summary_filename(data.period)}"'
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/targets", methods=["GET", "POST"])
@roles_required("admin")
def targets_page() -> str | WerkzeugResponse:
    registry = load_registry(db.session())
    form = TargetForm()
    form.indicator.choices = [
        SelectChoice(item.code, f"{item.label} ({item.code})") for item in registry.indicators
    ]
    if form.validate_on_submit():
        indicator = registry[form.indicator.data]
        value = None if form.value.data is None else float(form.value.data)
        if value is not None and indicator.unit == "share" and value > 1:
            form.value.errors = [_("Une part ou un taux est une fraction entre 0 et 1.")]
        else:
            set_target(db.session(), indicator.code, form.period.data, value, current_user)
            audit(
                db.session(),
                "target",
                actor=current_user,
                indicator=indicator.code,
                period=form.period.data,
                value=value,
            )
            flash(
                _("Objectif enregistré.") if value is not None else _("Objectif supprimé."),
                "success",
            )
            return redirect(url_for("funders.targets_page"))
    return render_template(
        "funders/targets.html",
        form=form,
        targets=targets(db.session()),
        registry=registry,
        period_labels=TARGET_PERIOD_LABELS,
        format_value=format_value,
    )
