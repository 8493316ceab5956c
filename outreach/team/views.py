from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, render_template

from config import get_settings

from ..auth.access import current_association, roles_required
from ..clock import iso_week_of, now_utc
from ..extensions import db
from ..followup.services import lookup_volumes
from ..vocabulary import ATMOSPHERES, ROLES
from .services import team, week_activity

bp = Blueprint("team", __name__, url_prefix="/team")


@bp.get("")
@roles_required("supervisor")
def home() -> str:
    association = current_association()
    unusual_from = get_settings(current_app).followup_unusual_per_week
    return render_template(
        "team/home.html",
        association=association,
        activity=week_activity(db.session(), association.id, iso_week_of(now_utc())),
        members=team(db.session(), association.id),
        lookups=lookup_volumes(
            db.session(), association.id, now_utc() - timedelta(days=7), unusual_from
        ),
        unusual_from=unusual_from,
        roles=ROLES,
        atmospheres=ATMOSPHERES,
    )
