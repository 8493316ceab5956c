"""Installable, offline-capable capture: manifest, service worker, offline page.

The service worker caches static assets and the new-contact form's shell only;
never a page or an API answer that holds records.
"""

from __future__ import annotations

import hashlib
from functools import cache

from flask import Blueprint, Response, current_app, jsonify, render_template, url_for
from flask_babel import gettext as _

from ..i18n import html_lang

bp = Blueprint("pwa", __name__)

STATIC_ASSETS = (
    "css/app.css",
    "js/app.js",
    "js/outbox-core.js",
    "js/outbox.js",
    "icons/icon-192.png",
    "icons/icon-512.png",
)


@cache
def _assets_version(static_folder: str) -> str:
    """Changes whenever a cached asset changes, so that phones fetch the new ones."""
    digest = hashlib.sha256()
    for name in STATIC_ASSETS:
        with open(f"{static_folder}/{name}", "rb") as asset:
            digest.update(asset.read())
    return digest.hexdigest()[:12]


@bp.get("/sw.js")
def service_worker() -> Response:
    body = render_template(
        "pwa/sw.js",
        version=_assets_version(str(current_app.static_folder)),
        assets=[url_for("static", filename=name) for name in STATIC_ASSETS],
        offline_url=url_for("pwa.offline"),
        core_url=url_for("static", filename="js/outbox-core.js"),
    )
    # Like every page, served no-store: a phone always checks for a new version.
    return Response(body, mimetype="application/javascript")


@bp.get("/manifest.webmanifest")
def manifest() -> Response:
    response = jsonify(
        {
            "name": _("Maraudes — saisie de terrain"),
            "short_name": _("Maraudes"),
            "lang": html_lang(),
            "start_url": url_for("auth.index"),
            "scope": "/",
            "display": "standalone",
            "background_color": "#0d1014",
            "theme_color": "#0b57d0",
            "icons": [
                {
                    "src": url_for("static", filename="icons/icon-192.png"),
                    "sizes": "192x192",
                    "type": "image/png",
                },
                {
                    "src": url_for("static", filename="icons/icon-512.png"),
                    "sizes": "512x512",
                    "type": "image/png",
                },
                {
                    "src": url_for("static", filename="icons/maskable-512.png"),
                    "sizes": "512x512",
                    "type": "image/png",
                    "purpose": "maskable",
                },
            ],
        }
    )
    response.mimetype = "application/manifest+json"
    return response


@bp.get("/offline")
def offline() -> str:
    return render_template("pwa/offline.html")
