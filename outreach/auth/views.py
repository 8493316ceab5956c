"""Login (password, then the second factor), logout, and one's own account."""

from __future__ import annotations

from datetime import timedelta

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
from flask_babel import refresh
from flask_login import current_user, login_user, logout_user
from markupsafe import Markup
from werkzeug.wrappers import Response as WerkzeugResponse

from config import get_settings

from .. import audit
from ..clock import now_utc
from ..extensions import db
from ..models import User
from ..vocabulary import ROLES
from .access import SESSION_USER_KEY, roles_required
from .forms import (
    ChangePasswordForm,
    ConfirmTotpForm,
    CsrfOnlyForm,
    LanguageForm,
    LoginForm,
    SecondFactorForm,
)
from .services import authenticate, change_own_password, find_account, verify_password
from .sessions import revoke_session, start_session
from .targets import safe_next
from .throttle import PENDING_LOGIN_KEY, guarded
from .totp import (
    confirm_enrolment,
    has_totp,
    pending_secret,
    provisioning_uri,
    qr_code_svg,
    recovery_codes_left,
    remove_second_factor,
    renew_recovery_codes,
    requires_totp,
    verify_second_factor,
)

bp = Blueprint("auth", __name__)

Page = str | WerkzeugResponse | tuple[str, int]
ALL_ROLES = tuple(ROLES)
HOME_BY_ROLE = {
    "worker": "capture.home",
    "supervisor": "team.home",
    "funder": "funders.summary",
    "admin": "admin.home",
}
# What a login form posts; the limits key on its fields (throttle.py).
FORM_BODIES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
# Between the password and the second factor: long enough to open the app, no more.
PENDING_LOGIN_TTL = timedelta(minutes=5)


def _user() -> User:
    """The logged-in user as the ORM object (not Flask-Login's proxy)."""
    user: User = current_user._get_current_object()
    return user


def _open_session(user: User) -> None:
    """A new server-side session (new id, fresh cookie); the cookie carries its id only."""
    token = start_session(db.session(), user, now_utc())
    session.clear()
    login_user(user)
    session[SESSION_USER_KEY] = token  # what the user loader receives (access.load_user)
    session.permanent = True


def _home(user: User, target: str | None = None) -> WerkzeugResponse:
    return redirect(target or url_for(HOME_BY_ROLE[user.role]))


def _logged_in(user: User, second_factor: str, target: str | None) -> WerkzeugResponse:
    _open_session(user)
    audit.audit(
        db.session(),
        "login.succeeded",
        actor=user,
        association_id=user.association_id,
        second_factor=second_factor,
    )
    return _home(user, target)


@bp.route("/login", methods=["GET", "POST"])
@guarded
def login() -> Page:
    if current_user.is_authenticated:
        return redirect(url_for("auth.index"))
    if request.method == "POST" and request.mimetype not in FORM_BODIES:
        # The per-account limit keys on the form's address: any other body would escape it.
        flash(_("Connectez-vous avec le formulaire de connexion."), "error")
        return render_template("auth/login.html", form=LoginForm(formdata=None)), 415
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data or ""
        user = authenticate(
            db.session(), get_settings(current_app), email, form.password.data or ""
        )
        if user is None:
            account = find_account(db.session(), email)
            audit.defer(
                "login.failed",
                actor=account,
                association_id=account.association_id if account is not None else None,
                known_account=account is not None,
            )
            flash(_("Adresse e-mail ou mot de passe incorrect."), "error")
            return render_template("auth/login.html", form=form), 401
        target = safe_next(request.args.get("next"))
        if has_totp(user):
            session.clear()
            session[PENDING_LOGIN_KEY] = {
                "user_id": user.id,
                "at": int(now_utc().timestamp()),
                "next": target,
            }
            return redirect(url_for("auth.login_code"))
        return _logged_in(user, "none", target)
    status = 422 if form.is_submitted() else 200
    return render_template("auth/login.html", form=form), status


def _pending_login() -> tuple[User, str | None] | None:
    pending = session.get(PENDING_LOGIN_KEY)
    if not isinstance(pending, dict):
        return None
    user_id, at = pending.get("user_id"), pending.get("at")
    if not isinstance(user_id, int) or not isinstance(at, int):
        return None
    if now_utc().timestamp() - at > PENDING_LOGIN_TTL.total_seconds():
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.is_active or not has_totp(user):
        return None
    target = pending.get("next")
    return user, safe_next(target if isinstance(target, str) else None)


@bp.route("/login/code", methods=["GET", "POST"])
@guarded
def login_code() -> Page:
    """Second step of a login: a TOTP code, or a recovery code; each works once."""
    pending = _pending_login()
    if pending is None:
        if session.pop(PENDING_LOGIN_KEY, None) is not None:
            flash(_("Reconnectez-vous : la connexion a pris trop de temps."), "info")
        return redirect(url_for("auth.login"))
    user, target = pending
    form = SecondFactorForm()
    if form.validate_on_submit():
        settings = get_settings(current_app)
        method = verify_second_factor(db.session(), settings, user, form.code.data or "", now_utc())
        if method is not None:
            response = _logged_in(user, method, target)
            if method == "recovery":
                left = recovery_codes_left(db.session(), user)
                audit.audit(
                    db.session(),
                    "totp.recovery_code_used",
                    actor=user,
                    association_id=user.association_id,
                    left=left,
                )
                flash(
                    _(
                        "Code de secours utilisé : il vous en reste %(n)s. "
                        "Renouvelez-les depuis « Mon compte ».",
                        n=left,
                    ),
                    "info",
                )
            return response
        audit.defer("login.second_factor_failed", actor=user, association_id=user.association_id)
        form.code.errors = [_("Code incorrect ou déjà utilisé. Attendez le code suivant.")]
        return render_template("auth/login_code.html", form=form), 401
    status = 422 if form.is_submitted() else 200
    return render_template("auth/login_code.html", form=form), status


@bp.post("/logout")
@roles_required(*ALL_ROLES)
def logout() -> WerkzeugResponse:
    form = CsrfOnlyForm()
    if form.validate_on_submit():
        user = _user()
        token = session.get(SESSION_USER_KEY)
        if isinstance(token, str):
            revoke_session(db.session(), token, "logout", now_utc())
        audit.audit(db.session(), "logout", actor=user, association_id=user.association_id)
        logout_user()
        session.clear()
        flash(_("Vous êtes déconnecté·e."), "info")
    return redirect(url_for("auth.login"))


@bp.get("/")
@roles_required(*ALL_ROLES)
def index() -> WerkzeugResponse:
    return _home(_user())


def _account_page(status: int = 200) -> tuple[str, int]:
    user = _user()
    return render_template(
        "auth/account.html",
        user=user,
        has_totp=has_totp(user),
        requires_totp=requires_totp(user),
        codes_left=recovery_codes_left(db.session(), user) if has_totp(user) else 0,
        code_form=SecondFactorForm(),
        language_form=LanguageForm(locale=user.locale or ""),
    ), status


@bp.get("/account")
@roles_required(*ALL_ROLES)
def account() -> Page:
    return _account_page()


@bp.post("/account/language")
@roles_required(*ALL_ROLES)
def account_language() -> Page:
    """The interface language of one's account; none follows the browser."""
    user = _user()
    form = LanguageForm()
    if not form.validate_on_submit():
        flash(_("Choisissez une des langues proposées."), "error")
        return _account_page(422)
    chosen = form.locale.data or None
    if chosen != user.locale:
        user.locale = chosen
        audit.audit(
            db.session(),
            "user.locale_changed",
            actor=user,
            association_id=user.association_id,
            locale=chosen or "browser",
        )
        refresh()  # this answer's message already in the new language
    flash(_("Langue de l'interface enregistrée."), "success")
    return redirect(url_for("auth.account"))


@bp.route("/account/password", methods=["GET", "POST"])
@roles_required(*ALL_ROLES)
@guarded
def change_password() -> Page:
    user = _user()
    form = ChangePasswordForm(user.email)
    if form.validate_on_submit():
        settings = get_settings(current_app)
        if not verify_password(settings, user, form.current_password.data or ""):
            form.current_password.errors = [_("Mot de passe actuel incorrect.")]
            return render_template("auth/change_password.html", form=form), 401
        change_own_password(db.session(), settings, user, form.new_password.data or "", now_utc())
        _open_session(user)  # every other session has ended; this one goes on, with a new id
        flash(_("Mot de passe changé. Vos autres sessions sont fermées."), "success")
        return redirect(url_for("auth.index"))
    status = 422 if form.is_submitted() else 200
    return render_template("auth/change_password.html", form=form), status


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@bp.route("/account/second-factor", methods=["GET", "POST"])
@roles_required(*ALL_ROLES)
def totp_setup() -> Page:
    """Enrolment: scan the QR code (or type the key), then confirm with a first code."""
    user = _user()
    if has_totp(user):
        flash(_("Le second facteur est déjà activé."), "info")
        return redirect(url_for("auth.account"))
    settings = get_settings(current_app)
    secret = pending_secret(db.session(), settings, user)
    form = ConfirmTotpForm()
    status = 200
    if form.validate_on_submit():
        codes = confirm_enrolment(db.session(), settings, user, form.code.data or "", now_utc())
        if codes is not None:
            return render_template("auth/recovery_codes.html", codes=codes)
        form.code.errors = [_("Code incorrect ou déjà utilisé. Attendez le code suivant.")]
        status = 422
    elif form.is_submitted():
        status = 422
    return render_template(
        "auth/totp_setup.html",
        form=form,
        qr_code=Markup(qr_code_svg(provisioning_uri(user, secret))),  # noqa: S704 (segno's SVG)
        secret=_grouped(secret),
        required=requires_totp(user),
    ), status


def _code_refused() -> int | None:
    """None when the form's code is accepted (and spent); else 422 (no code) or 401 (wrong)."""
    form = SecondFactorForm()
    if not form.validate_on_submit():
        return 422
    method = verify_second_factor(
        db.session(), get_settings(current_app), _user(), form.code.data or "", now_utc()
    )
    return None if method is not None else 401


@bp.post("/account/second-factor/disable")
@roles_required("worker")
@guarded
def totp_disable() -> Page:
    """Workers may turn the second factor off again, with a code from it."""
    user = _user()
    if not has_totp(user):
        return redirect(url_for("auth.account"))
    refused = _code_refused()
    if refused is not None:
        flash(_("Code incorrect ou déjà utilisé : le second facteur reste activé."), "error")
        return _account_page(refused)
    remove_second_factor(db.session(), user)
    audit.audit(db.session(), "totp.disabled", actor=user, association_id=user.association_id)
    flash(_("Second facteur désactivé."), "success")
    return redirect(url_for("auth.account"))


@bp.post("/account/recovery-codes")
@roles_required(*ALL_ROLES)
@guarded
def recovery_codes() -> Page:
    """New recovery codes (the old ones stop working), with a code as proof."""
    user = _user()
    if not has_totp(user):
        return redirect(url_for("auth.account"))
    refused = _code_refused()
    if refused is not None:
        flash(_("Code incorrect ou déjà utilisé : les codes de secours n'ont pas changé."), "error")
        return _account_page(refused)
    codes = renew_recovery_codes(db.session(), user)
    audit.audit(
        db.session(), "totp.recovery_codes_renewed", actor=user, association_id=user.association_id
    )
    return render_template("auth/recovery_codes.html", codes=codes)
