"""Headers on every response: pages, API answers, exports, errors (404 and 500 included)."""

from __future__ import annotations

from flask import request
from flask.wrappers import Response

# No inline script or style anywhere: templates link static files only.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "manifest-src 'self'",
        "worker-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
# The app needs none of these; geolocation above all (no GPS, by design).
PERMISSIONS_POLICY = "geolocation=(), camera=(), microphone=(), payment=(), usb=()"
HSTS = "max-age=63072000; includeSubDomains"


def set_security_headers(response: Response, *, production: bool) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    # Same-origin requests keep their Referer: over HTTPS Flask-WTF refuses a POST whose
    # Referer is missing or from another origin (WTF_CSRF_SSL_STRICT). Other sites get none.
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    if request.endpoint != "static":  # pages, API answers and exports may hold records
        headers["Cache-Control"] = "no-store"
    if production:
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response
