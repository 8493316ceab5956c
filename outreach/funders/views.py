from __future__ import annotations

from flask import Blueprint, render_template

from ..auth.access import roles_required
from ..clock import now_utc
from ..extensions import db
from .services import DEFAULT_SUPPRESSION_THRESHOLD, complete_weeks, weekly_contacts

bp = Blueprint("funders", __name__, url_prefix="/summary")

WEEKS_SHOWN = 8


@bp.get("")
@roles_required("funder", "admin")
def summary() -> str:
    weeks = complete_weeks(now_utc(), WEEKS_SHOWN)
    return render_template(
        "funders/summary.html",
        series=weekly_contacts(db.session, weeks),
        threshold=DEFAULT_SUPPRESSION_THRESHOLD,
    )
