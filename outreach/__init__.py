"""Field outreach data capture for the street patrols of the Paris crack plan."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask, Response, request
from jinja2 import FileSystemBytecodeCache
from werkzeug.middleware.proxy_fix import ProxyFix

from config import INSTANCE_DIR, RESOURCES, Settings, get_settings

from .db import configure_sqlite, set_lock_at_first_write
from .extensions import babel, csrf, db, login_manager, migrate
from .security.input_guard import BoundedJSONProvider


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    settings.validate()
    app = Flask(
        __name__,
        template_folder=str(RESOURCES / "templates"),
        static_folder=str(RESOURCES / "static"),
        instance_path=str(INSTANCE_DIR),
    )
    app.json = BoundedJSONProvider(app)
    app.config.from_mapping(_flask_config(settings))
    app.extensions["outreach_settings"] = settings
    if settings.trusted_proxy_hops:  # the client's address and scheme, as the proxy saw them
        hops = settings.trusted_proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    register_extensions(app, settings)
    register_url_converters(app)
    register_blueprints(app)
    register_throttling(app, settings)
    register_request_hooks(app)
    register_template_globals(app)
    register_errors(app)
    register_commands(app)
    return app


def _flask_config(settings: Settings) -> dict[str, Any]:
    return {
        "SECRET_KEY": settings.secret_key,
        "SQLALCHEMY_DATABASE_URI": settings.database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": _engine_options(settings),
        "MAX_CONTENT_LENGTH": settings.max_content_length,
        "TESTING": settings.testing,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": settings.is_production,
        # __Host-: sent only over HTTPS, to this host, for the whole site.
        "SESSION_COOKIE_NAME": "__Host-session" if settings.is_production else "session",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": settings.is_production,
        # The cookie lives as long as a session may and is not re-sent on every answer:
        # the server tracks idleness (auth/sessions.py).
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=settings.session_absolute_hours),
        "SESSION_REFRESH_EACH_REQUEST": False,
        "WTF_CSRF_TIME_LIMIT": None,  # tied to the session, which already expires
        "WTF_CSRF_CHECK_DEFAULT": False,  # checked in enforce_access, after the role check
        "BABEL_DEFAULT_LOCALE": "fr",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Paris",
        # Compiled by `make run` and `make test` (README, "Languages and translations").
        "BABEL_TRANSLATION_DIRECTORIES": str(RESOURCES / "translations"),
    }


def _engine_options(settings: Settings) -> dict[str, Any]:
    """hide_parameters: values (pseudonyms...) never reach error messages or logs. On
    PostgreSQL, no wait without an end (errors.py answers 503): libpq's connect timeout;
    a statement timeout set by the server at each connection; a TCP user timeout, so that
    a connection whose packets go unacknowledged (a host or network gone) breaks instead
    of waiting for the kernel's retransmissions (15 minutes)."""
    options: dict[str, Any] = {
        "pool_pre_ping": True,
        "hide_parameters": True,
        "pool_timeout": settings.database_pool_timeout,
    }
    if settings.database_url.startswith("postgresql"):
        statement_ms = settings.database_statement_timeout * 1000
        options["connect_args"] = {
            "connect_timeout": settings.database_connect_timeout,
            "options": f"-c statement_timeout={statement_ms}",
            "tcp_user_timeout": max(
                settings.database_connect_timeout, settings.database_statement_timeout
            )
            * 1000,
        }
    return options


def register_extensions(app: Flask, settings: Settings) -> None:
    from .auth.access import load_user, unauthorized
    from .i18n import select_locale, warn_of_missing_catalogues

    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine)
    migrate.init_app(app, db, directory=str(RESOURCES / "migrations"))
    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.unauthorized_handler(unauthorized)
    # Phones change address all the time; revocation is done by the server-side session.
    login_manager.session_protection = "basic"
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    warn_of_missing_catalogues(app, RESOURCES / "translations")


def register_url_converters(app: Flask) -> None:
    """Before the blueprints: their rules name these converters."""
    from .routing import ID_CONVERTERS

    app.url_map.converters.update(ID_CONVERTERS)


def register_blueprints(app: Flask) -> None:
    from .activity_report.views import bp as activity_report_bp
    from .admin.views import bp as admin_bp
    from .api.views import bp as api_bp
    from .auth.accounts import bp as accounts_bp
    from .auth.views import bp as auth_bp
    from .capture.views import bp as capture_bp
    from .coverage.views import bp as coverage_bp
    from .followup.views import bp as followup_bp
    from .funders.views import bp as funders_bp
    from .health.views import bp as health_bp
    from .pwa.views import bp as pwa_bp
    from .reports.views import bp as reports_bp
    from .security.views import bp as security_bp
    from .team.views import bp as team_bp

    for blueprint in (
        auth_bp,
        capture_bp,
        followup_bp,
        team_bp,
        funders_bp,
        admin_bp,
        health_bp,
        api_bp,
        pwa_bp,
        reports_bp,
        activity_report_bp,
        accounts_bp,
        security_bp,
        coverage_bp,
    ):
        app.register_blueprint(blueprint)


def register_throttling(app: Flask, settings: Settings) -> None:
    from .auth import throttle

    throttle.configure(app, settings.ratelimit_storage_url, settings.ratelimit_storage_timeout)


def register_request_hooks(app: Flask) -> None:
    from .audit import write_deferred
    from .auth.access import enforce_access
    from .i18n import remember_language_choice
    from .security.headers import set_security_headers
    from .security.input_guard import refuse_nul_bytes

    @app.before_request
    def choose_lock_mode() -> None:
        """Before anything reads the database (enforce_access loads the session)."""
        view = app.view_functions.get(request.endpoint or "")
        set_lock_at_first_write(bool(getattr(view, "writes_idempotently", False)))

    @app.teardown_request
    def forget_lock_mode(_error: BaseException | None) -> None:
        set_lock_at_first_write(False)  # gunicorn threads serve one request after another

    app.before_request(refuse_nul_bytes)
    app.before_request(enforce_access)
    app.after_request(remember_language_choice)

    @app.after_request
    def commit_once(response: Response) -> Response:
        """Indico's habit: services flush, the request commits once, on success only.

        A refused request still keeps its deferred audit entries (failed logins, lockouts),
        unless the database is unavailable.
        """
        if response.status_code < 400:
            write_deferred(db.session())
            db.session.commit()
        elif response.status_code == 503:  # the database cannot take them now
            db.session.rollback()
        else:
            db.session.rollback()
            if write_deferred(db.session()):
                db.session.commit()
        return response

    @app.after_request
    def security_headers(response: Response) -> Response:
        return set_security_headers(response, production=get_settings(app).is_production)


def register_template_globals(app: Flask) -> None:
    from flask_babel import format_date, format_datetime, format_time, get_locale

    from . import i18n, vocabulary

    # Compiled templates kept on disk (Jinja's per-user private temporary folder, keyed by
    # each template's source): after a restart, a worker's first pages skip compiling them,
    # about 50 ms on the funders' summary (docs/perf-history.md).
    app.jinja_env.bytecode_cache = FileSystemBytecodeCache()
    app.jinja_env.globals.update(
        vocab=vocabulary,
        get_locale=get_locale,
        format_datetime=format_datetime,
        format_date=format_date,
        format_time=format_time,
        format_day=i18n.format_day,
        format_moment=i18n.format_moment,
        html_lang=i18n.html_lang,
        language_names=i18n.LANGUAGE_NAMES,
        language_url=i18n.language_url,
    )


def register_errors(app: Flask) -> None:
    from .errors import register_error_handlers
    from .outages import register_outage_logs

    register_outage_logs(app)
    register_error_handlers(app)


def register_commands(app: Flask) -> None:
    from .cli import outreach_cli

    app.cli.add_command(outreach_cli)
