"""The audit-log page: admins see every entry, supervisors their association's only."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from ..audit import action_label, details_text, entries
from ..auth.access import current_association, roles_required
from ..extensions import db

bp = Blueprint("security", __name__)

PAGE_SIZE = 100
MAX_PAGE = 10_000


@bp.get("/audit")
@roles_required("supervisor", "admin")
def audit_log() -> str:
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)
    association_id = None if current_user.role == "admin" else current_association().id
    rows = entries(
        db.session(),
        association_id=association_id,
        limit=PAGE_SIZE + 1,
        offset=(page - 1) * PAGE_SIZE,
    )
    return render_template(
        "security/audit_log.html",
        rows=rows[:PAGE_SIZE],
        page=page,
        has_next=len(rows) > PAGE_SIZE,
        action_label=action_label,
        details_text=details_text,
    )
