"""A dependency that is down is said once per burst in the log, not once per request.

A burst is a run of failures with less than `quiet_seconds` between two of them: its
first failure is logged as a warning with the error's first line, without a traceback;
the others only count. An outage of ten seconds under load is one line, not megabytes.
"""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask

QUIET_SECONDS = 60.0


class OutageLog:
    def __init__(
        self, logger: logging.Logger, what: str, quiet_seconds: float = QUIET_SECONDS
    ) -> None:
        self.logger = logger
        self.what = what
        self.quiet_seconds = quiet_seconds
        self._lock = threading.Lock()
        self._last_failure: float | None = None

    def failed(self, error: BaseException) -> None:
        now = time.monotonic()
        with self._lock:
            first = self._last_failure is None or now - self._last_failure > self.quiet_seconds
            self._last_failure = now
        if first:
            detail = str(getattr(error, "orig", None) or error).strip().splitlines()
            self.logger.warning(
                "%s: %s: %s", self.what, type(error).__name__, detail[0] if detail else ""
            )


DATABASE = "database"
RATE_LIMITS = "rate_limits"


def register_outage_logs(app: Flask) -> None:
    app.extensions["outreach_outages"] = {
        DATABASE: OutageLog(app.logger, "database unreachable"),
        RATE_LIMITS: OutageLog(app.logger, "rate-limit storage unreachable"),
    }


def outage_log(app: Flask, dependency: str) -> OutageLog:
    logs: dict[str, OutageLog] = app.extensions["outreach_outages"]
    return logs[dependency]
