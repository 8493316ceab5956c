"""The activity report of the supervisor's own association: page, CSV and workbook."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import format_decimal
from flask_login import current_user

from ..audit import audit
from ..auth.access import roles_required
from ..clock import now_utc
from ..extensions import db
from ..reports.csv_export import CsvFormat, csv_lines
from ..reports.views import own_association
from .definitions import MODALITY_NOTE, TOTALS
from .exports import CSV_HEADER, XLSX_MIMETYPE, csv_rows, filename, workbook
from .forms import PeriodForm
from .services import ActivityReport, ReportPeriods, activity_report, period_value, report_periods

bp = Blueprint("activity_report", __name__, url_prefix="/reports/associations/<slug>")


def _report(slug: str) -> tuple[ReportPeriods, ActivityReport]:
    """The report of the period asked for; another association or period: 404."""
    association = own_association(slug)
    periods = report_periods(db.session(), association.id, now_utc(), request.args.get("period"))
    if periods is None:
        abort(404)
    return periods, activity_report(db.session(), association, periods.chosen)


def format_figure(value: float) -> str:
    """Hours (floats) to the tenth, counts whole, grouped in the reader's language."""
    return format_decimal(value, "#,##0.0" if isinstance(value, float) else "#,##0")


@bp.get("/activity")
@roles_required("supervisor")
def page(slug: str) -> str:
    periods, report = _report(slug)
    return render_template(
        "activity_report/report.html",
        report=report,
        periods=periods,
        form=PeriodForm.offering(periods),
        current=periods.is_current(report.period),
        period=period_value(report.period),
        totals=TOTALS,
        modality_note=MODALITY_NOTE,
        format_figure=format_figure,
    )


def _download(
    report: ActivityReport, body: bytes | str, mimetype: str, name: str, rows: int
) -> Response:
    audit(
        db.session(),
        "export",
        actor=current_user._get_current_object(),
        association_id=report.association.id,
        kind="activity_report",
        format=name.rsplit(".", 1)[1],
        period=period_value(report.period),
        rows=rows,
    )
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/activity.csv")
@roles_required("supervisor")
def csv_export(slug: str) -> Response:
    _periods, report = _report(slug)
    rows = list(csv_rows(report))
    body = "".join(csv_lines(CSV_HEADER, rows, CsvFormat.named(request.args.get("separator"))))
    return _download(report, body, "text/csv", filename(report, "csv"), len(rows))


@bp.get("/activity.xlsx")
@roles_required("supervisor")
def xlsx_export(slug: str) -> Response:
    periods, report = _report(slug)
    body = workbook(report, current=periods.is_current(report.period))
    rows = sum(len(section.rows) for section in report.sections)
    return _download(report, body, XLSX_MIMETYPE, filename(report, "xlsx"), rows)
