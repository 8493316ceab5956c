"""Supervisor dashboard and weekly CSV exports (own association only), and definitions."""

from __future__ import annotations

from typing import cast

from flask import (
    Blueprint,
    Response,
    abort,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as WerkzeugResponse

from ..audit import audit
from ..auth.access import current_association, roles_required
from ..clock import iso_week_of, now_utc
from ..extensions import db
from ..models import Association, User
from ..vocabulary import REFERRAL_STATUSES
from .csv_export import KINDS, CsvFormat, counted, csv_lines, export_filename, weekly_export
from .formatting import format_change, format_value
from .indicators import FAMILY_TITLES
from .periods import is_week, last_complete_week, shift_week
from .presenters import breakdown_chart, trend_chart
from .services import dashboard as dashboard_of
from .services import load_registry

bp = Blueprint("reports", __name__, url_prefix="/reports")


def own_association(slug: str) -> Association:
    """The supervisor's association; any other slug looks like a missing page."""
    association = current_association()
    if slug != association.slug:
        abort(404)
    return association


def chosen_week(text: str | None) -> str:
    """The week asked for (not after the current one), or the last complete week."""
    now = now_utc()
    if not text:
        return last_complete_week(now)
    if not is_week(text) or text > iso_week_of(now):
        abort(404)
    return text


@bp.get("")
@roles_required("supervisor")
def home() -> WerkzeugResponse:
    return redirect(url_for("reports.dashboard", slug=current_association().slug))


@bp.get("/associations/<slug>")
@roles_required("supervisor")
def dashboard(slug: str) -> str:
    association = own_association(slug)
    week = chosen_week(request.args.get("week"))
    data = dashboard_of(db.session(), association, week)
    registry = load_registry(db.session())
    return render_template(
        "reports/dashboard.html",
        data=data,
        registry=registry,
        trend_charts={
            code: trend_chart(registry[code], data.trend_weeks, values)
            for code, values in data.trends.items()
        },
        family_charts={
            family: breakdown_chart(str(title), data.families[family], f"family-{family}")
            for family, title in FAMILY_TITLES.items()
        },
        family_titles=FAMILY_TITLES,
        statuses=REFERRAL_STATUSES,
        format_value=format_value,
        format_change=format_change,
        current_week=iso_week_of(now_utc()),
        next_week=next_week
        if (next_week := shift_week(week, 1)) <= iso_week_of(now_utc())
        else None,
    )


@bp.get("/associations/<slug>/export/<kind>.csv")
@roles_required("supervisor")
def export(slug: str, kind: str) -> Response:
    association = own_association(slug)
    if kind not in KINDS:
        abort(404)
    week = chosen_week(request.args.get("week"))
    csv_format = CsvFormat.named(request.args.get("separator"))
    # The scoped session itself, not the request's: the body streams after the request's
    # session is removed, and must read through the session of the context it streams in.
    streaming_session = cast(Session, db.session)
    prepared = weekly_export(
        streaming_session, association, week, kind, load_registry(db.session())
    )
    # The body streams after the request's commit: keep plain values, not ORM objects.
    actor_id, association_id = current_user.id, association.id

    def record(rows: int, complete: bool) -> None:
        audit(
            db.session(),
            "export",
            actor=db.session.get(User, actor_id),
            association_id=association_id,
            week=week,
            kind=kind,
            rows=rows,
            complete=complete,
        )
        db.session.commit()

    body = csv_lines(
        prepared.header,
        counted(prepared.rows, record),
        csv_format,
        cells_are_safe=prepared.cells_are_safe,
    )
    response = Response(stream_with_context(body), mimetype="text/csv")
    filename = export_filename(association, week, kind)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/definitions")
@roles_required("supervisor", "funder", "admin")
def definitions() -> str:
    return render_template(
        "reports/definitions.html",
        registry=load_registry(db.session()),
        family_titles=FAMILY_TITLES,
    )
