"""Where a login may lead afterwards (`?next=`): a page of this site, never another site.

A browser reading a `Location` header drops tabs and newlines, takes a backslash for a
slash and `//host` for another site; Werkzeug refuses a newline in a header (a 500). So
the target is refused unless it is printable ASCII without a backslash, a path without
a scheme or a host, and a page of the app's own URL map that answers GET.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, request
from werkzeug.exceptions import HTTPException

# Printable ASCII, space excluded: what a path and query may hold as typed.
_ALLOWED = frozenset(chr(code) for code in range(0x21, 0x7F)) - {"\\"}
_NEVER = frozenset({"auth.login", "auth.login_code", "auth.logout", "static"})


def safe_next(target: str | None) -> str | None:
    """`target` if it is a page of this site a logged-in user may be sent to, else None."""
    if not target or not set(target) <= _ALLOWED or not target.startswith("/"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or parts.path.startswith("//"):
        return None
    adapter = current_app.url_map.bind_to_environ(request.environ)
    try:
        endpoint, _arguments = adapter.match(parts.path, method="GET")
    except HTTPException:  # no page, not a GET, or a redirect (trailing slash...)
        return None
    return None if endpoint in _NEVER else target
