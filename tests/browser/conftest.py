"""Browser fixtures for every test in this folder (defined in tests/browser_support.py)."""

from tests.browser_support import (  # noqa: F401
    browser,
    live_server,
    page,
    playwright,
    request_log,
    routable_page,
)
