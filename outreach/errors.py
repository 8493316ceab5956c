"""Error pages: in the request's language, never a traceback; JSON under /api/.

When the database cannot serve (down, frozen, a timeout, SQLite's disk), every request
answers 503 with `Retry-After`, which phones honour before they send their outbox again:
a page of its own, rendered without the database (the language comes from the device,
not from the account), or JSON under /api/. The log says "database unreachable" once per
burst of such failures, without a traceback (outages.py).
"""

from __future__ import annotations

import uuid

from flask import Flask, current_app, jsonify, make_response, render_template, request
from flask.wrappers import Response
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.sansio.response import Response as SansIOResponse

from .i18n import FORMAT_LOCALES, device_language
from .outages import DATABASE, outage_log

# Seconds a phone waits before it sends its outbox again after a 503.
RETRY_AFTER_SECONDS = 10


def _messages() -> dict[int, str]:
    return {
        400: _("La demande n'a pas pu être comprise."),
        403: _("Vous n'avez pas accès à cette page."),
        404: _("Page introuvable."),
        405: _("Cette action n'est pas possible ici."),
        413: _("Envoi trop volumineux."),
        429: _("Trop de tentatives : patientez un peu."),
        500: _("Une erreur est survenue de notre côté."),
    }


def error_response(
    status: int, message: str, incident: str | None = None
) -> tuple[str | Response, int]:
    """The error page, or JSON under /api/, in the request's language."""
    if request.path.startswith("/api/"):
        return jsonify(error=status, message=message, incident=incident), status
    return render_template(
        "errors/error.html", status=status, message=message, incident=incident
    ), status


def database_unavailable(error: BaseException) -> bool:
    """Whether the error says that the database cannot serve now, whatever the request."""
    if isinstance(error, OperationalError | PoolTimeoutError):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


def unavailable_response(error: BaseException) -> Response:
    """The 503 of a database that cannot serve, built without it."""
    outage_log(current_app, DATABASE).failed(error)
    with force_locale(FORMAT_LOCALES[device_language()]):
        message = _("Le service est indisponible : réessayez dans quelques instants.")
        if request.path.startswith("/api/"):
            response = jsonify(error=503, message=message, incident=None)
        else:
            template = current_app.jinja_env.get_template("errors/unavailable.html")
            response = make_response(template.render(message=message))
    response.status_code = 503
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(OperationalError)
    @app.errorhandler(PoolTimeoutError)
    def database_error(error: Exception) -> Response:
        return unavailable_response(error)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[str | Response, int]:
        return error_response(400, _("Le formulaire a expiré : rechargez la page et recommencez."))

    @app.errorhandler(HTTPException)
    def http_error(
        error: HTTPException,
    ) -> tuple[str | Response, int] | HTTPException | SansIOResponse | Response:
        status = error.code or 500
        if status < 400:
            return error
        if error.response is not None:  # the page a view chose (a spent lookup budget)
            return error.response
        try:  # the language of a logged-in user is the account's, read from the database
            return error_response(status, _messages().get(status, error.name))
        except SQLAlchemyError as failure:
            if database_unavailable(failure):
                return unavailable_response(failure)
            raise

    @app.errorhandler(InternalServerError)
    def server_error(error: InternalServerError) -> tuple[str | Response, int] | Response:
        """The page shows an incident id only; the traceback goes to the server's log."""
        original = error.original_exception
        if original is not None and database_unavailable(original):
            return unavailable_response(original)
        incident = uuid.uuid4().hex[:12]
        app.logger.error(
            "incident %s on %s %s",
            incident,
            request.method,
            request.path,
            exc_info=error.original_exception or error,
        )
        return error_response(500, _messages()[500], incident)
