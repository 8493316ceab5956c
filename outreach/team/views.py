from __future__ import annotations

from flask import Blueprint, render_template

from ..auth.access import current_association, roles_required
from ..clock import iso_week_of, now_utc
from ..extensions import db
from ..vocabulary import ATMOSPHERES, ROLES
from .services import team, week_activity

bp = Blueprint("team", __name__, url_prefix="/team")


@bp.get("")
@roles_required("supervisor")
def home() -> str:
    association = current_association()
    return render_template(
        "team/home.html",
        association=association,
        activity=week_activity(db.session, association.id, iso_week_of(now_utc())),
        members=team(db.session, association.id),
        roles=ROLES,
        atmospheres=ATMOSPHERES,
    )
