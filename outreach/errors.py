"""Error pages: in French, never a traceback; JSON under /api/."""

from __future__ import annotations

import uuid

from flask import Flask, jsonify, render_template, request
from flask.wrappers import Response
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.wrappers import Response as WerkzeugResponse


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


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[str | Response, int]:
        return error_response(400, _("Le formulaire a expiré : rechargez la page et recommencez."))

    @app.errorhandler(HTTPException)
    def http_error(
        error: HTTPException,
    ) -> tuple[str | Response, int] | HTTPException | WerkzeugResponse:
        status = error.code or 500
        if status < 400:
            return error
        if error.response is not None:  # the page a view chose (a spent lookup budget)
            return error.response
        return error_response(status, _messages().get(status, error.name))

    @app.errorhandler(InternalServerError)
    def server_error(error: InternalServerError) -> tuple[str | Response, int]:
        """The page shows an incident id only; the traceback goes to the server's log."""
        incident = uuid.uuid4().hex[:12]
        app.logger.error(
            "incident %s on %s %s",
            incident,
            request.method,
            request.path,
            exc_info=error.original_exception or error,
        )
        return error_response(500, _messages()[500], incident)
