from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response as WerkzeugResponse

from .. import get_settings
from ..extensions import db
from .access import roles_required
from .forms import CsrfOnlyForm, LoginForm
from .services import authenticate

bp = Blueprint("auth", __name__)

HOME_BY_ROLE = {
    "worker": "capture.home",
    "supervisor": "team.home",
    "funder": "funders.summary",
    "admin": "admin.home",
}


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: never an open redirect."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return None


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | WerkzeugResponse | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for("auth.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(
            db.session, get_settings(current_app), form.email.data or "", form.password.data or ""
        )
        if user is not None:
            session.clear()  # a fresh session at login
            login_user(user)
            session.permanent = True
            return redirect(
                _safe_next(request.args.get("next")) or url_for(HOME_BY_ROLE[user.role])
            )
        flash(_("Adresse e-mail ou mot de passe incorrect."), "error")
        return render_template("auth/login.html", form=form), 401
    status = 422 if form.is_submitted() else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@roles_required("worker", "supervisor", "funder", "admin")
def logout() -> WerkzeugResponse:
    form = CsrfOnlyForm()
    if form.validate_on_submit():
        logout_user()
        session.clear()
        flash(_("Vous êtes déconnecté·e."), "info")
    return redirect(url_for("auth.login"))


@bp.get("/")
@roles_required("worker", "supervisor", "funder", "admin")
def index() -> WerkzeugResponse:
    return redirect(url_for(HOME_BY_ROLE[current_user.role]))
