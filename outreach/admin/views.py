from __future__ import annotations

from flask import Blueprint, render_template

from ..auth.access import roles_required
from ..extensions import db
from ..vocabulary import ROLES
from .services import associations_overview, platform_accounts, zones

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("")
@roles_required("admin")
def home() -> str:
    return render_template(
        "admin/home.html",
        associations=associations_overview(db.session),
        accounts=platform_accounts(db.session),
        zones=zones(db.session),
        roles=ROLES,
    )
