"""Team accounts: supervisors manage their association's, admins everyone's.

Create an account (supervisors: a worker of their team; admins: any role) or reset a
password, both with a temporary password shown once, to change at the next login; reset
a lost second factor, deactivate or reactivate, and (admins) swap worker/supervisor or
funder/admin. Another association's account answers 404, as if it did not exist.

A temporary password, a second-factor reset and a deactivation end the person's sessions:
their first POST only says what will happen, on a page whose own POST (`confirmed=1`)
acts. No script is needed.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms.fields.choices import SelectChoice

from config import get_settings

from ..clock import now_utc
from ..extensions import db
from ..models import Association, User
from ..vocabulary import ROLES
from .access import roles_required
from .forms import ActiveForm, ConfirmForm, NewAccountForm, NewPlatformAccountForm, RoleForm
from .services import (
    ROLE_SWAPS,
    ManagementError,
    active_associations,
    change_role,
    create_account,
    get_manageable,
    manageable_accounts,
    refuse_oneself,
    reset_password,
    reset_second_factor,
    set_active,
)
from .totp import has_totp

bp = Blueprint("accounts", __name__, url_prefix="/accounts")

Page = str | WerkzeugResponse | tuple[str, int]
MANAGERS = ("supervisor", "admin")


def _actor() -> User:
    user: User = current_user._get_current_object()
    return user


def _target(user_id: int) -> User:
    user = get_manageable(db.session(), _actor(), user_id)
    if user is None:
        abort(404)
    return user


def _index_page(status: int = 200) -> tuple[str, int]:
    return render_template(
        "auth/accounts.html",
        accounts=manageable_accounts(db.session(), _actor()),
        roles=ROLES,
        swaps=ROLE_SWAPS,
        has_totp=has_totp,
    ), status


def _refused(error: ManagementError) -> tuple[str, int]:
    flash(str(error.message), "error")
    return _index_page(422)


@bp.get("")
@roles_required(*MANAGERS)
def index() -> Page:
    return _index_page()


def _unconfirmed(user: User, action: str) -> Page | None:
    """The page asking to confirm `action` on `user` (or refusing it), None once confirmed."""
    try:
        refuse_oneself(_actor(), user)
    except ManagementError as error:
        return _refused(error)
    if ConfirmForm().is_confirmed():
        return None
    return render_template("auth/confirm_account_action.html", account=user, action=action)


@bp.post("/<row_id:user_id>/password")
@roles_required(*MANAGERS)
def reset_password_view(user_id: int) -> Page:
    user = _target(user_id)
    if (question := _unconfirmed(user, "password")) is not None:
        return question
    try:
        temporary = reset_password(
            db.session(), get_settings(current_app), _actor(), user, now_utc()
        )
    except ManagementError as error:
        return _refused(error)
    return render_template("auth/temporary_password.html", account=user, password=temporary)


@bp.post("/<row_id:user_id>/second-factor")
@roles_required(*MANAGERS)
def reset_second_factor_view(user_id: int) -> Page:
    user = _target(user_id)
    if (question := _unconfirmed(user, "second_factor")) is not None:
        return question
    try:
        reset_second_factor(db.session(), _actor(), user, now_utc())
    except ManagementError as error:
        return _refused(error)
    flash(_("Second facteur de %(email)s réinitialisé.", email=user.email), "success")
    return redirect(url_for("accounts.index"))


@bp.post("/<row_id:user_id>/active")
@roles_required(*MANAGERS)
def set_active_view(user_id: int) -> Page:
    user = _target(user_id)
    form = ActiveForm()
    if not form.validate_on_submit():
        return _refused(ManagementError(_("Action inconnue.")))
    active = form.active.data == "1"
    if not active and user.active and (question := _unconfirmed(user, "deactivate")) is not None:
        return question
    try:
        set_active(db.session(), _actor(), user, active, now_utc())
    except ManagementError as error:
        return _refused(error)
    if user.active:
        flash(_("Compte %(email)s réactivé.", email=user.email), "success")
    else:
        flash(
            _("Compte %(email)s désactivé : ses sessions sont fermées.", email=user.email),
            "success",
        )
    return redirect(url_for("accounts.index"))


@bp.post("/<row_id:user_id>/role")
@roles_required("admin")
def change_role_view(user_id: int) -> Page:
    user = _target(user_id)
    form = RoleForm()
    try:
        if not form.validate_on_submit():
            raise ManagementError(_("Ce changement de rôle n'est pas possible."))
        change_role(db.session(), _actor(), user, form.role.data or "", now_utc())
    except ManagementError as error:
        return _refused(error)
    flash(
        _("%(email)s est maintenant %(role)s.", email=user.email, role=ROLES[user.role]), "success"
    )
    return redirect(url_for("accounts.index"))


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def create() -> Page:
    actor = _actor()
    form: NewAccountForm
    if actor.role == "admin":
        form = NewPlatformAccountForm()
        form.association.choices = [
            SelectChoice("", _("— aucune —")),
            *(SelectChoice(str(a.id), a.name) for a in active_associations(db.session())),
        ]
    else:
        form = NewAccountForm()
    if form.validate_on_submit():
        if isinstance(form, NewPlatformAccountForm):
            role = form.role.data or ""
            chosen = form.association.data  # one of the choices: an id, or ""
            association = db.session.get(Association, int(chosen)) if chosen else None
        else:
            role, association = "worker", actor.association
        try:
            user, temporary = create_account(
                db.session(),
                get_settings(current_app),
                actor,
                email=form.email.data or "",
                display_name=form.display_name.data or "",
                role=role,
                association=association,
                now=now_utc(),
            )
        except ManagementError as error:
            field = form._fields.get(error.field or "")
            if field is not None:
                field.errors = [*field.errors, error.message]
            else:
                flash(str(error.message), "error")
        else:
            return render_template(
                "auth/temporary_password.html", account=user, password=temporary, created=True
            )
    status = 422 if form.is_submitted() else 200
    return render_template("auth/new_account.html", form=form), status
