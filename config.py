"""Application configuration: one frozen, typed object read from the environment.

Production refuses to start without real secrets; development falls back to
clearly marked keys so that `make run` works on a bare machine.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from limits import parse_many

PROJECT_ROOT = Path(__file__).resolve().parent
# Templates, static files, migrations and translations: beside this module in a checkout,
# inside the package once installed from a wheel (setup.py puts them there).
_IN_CHECKOUT = (PROJECT_ROOT / "templates").is_dir()
RESOURCES = PROJECT_ROOT if _IN_CHECKOUT else PROJECT_ROOT / "outreach" / "_resources"
# The embedded database's folder: the checkout's instance/, or ./instance when installed.
INSTANCE_DIR = Path(
    os.environ.get("OUTREACH_INSTANCE_DIR")
    or (PROJECT_ROOT / "instance" if _IN_CHECKOUT else Path.cwd() / "instance")
)

# Development-only secrets: recognisable so that production can refuse them.
DEV_SECRET_KEY = "dev-insecure-secret-key-do-not-use-in-production"  # noqa: S105 (refused in production)
DEV_PSEUDONYM_KEY = "dev-insecure-pseudonym-key-do-not-use-in-production"
MIN_SECRET_LENGTH = 32
# OWASP's minimum for argon2id (Password Storage Cheat Sheet): 19 MiB, 2 iterations, 1 lane.
OWASP_ARGON2_MIN_MEMORY_KIB = 19456
OWASP_ARGON2_MIN_TIME_COST = 2
DEFAULT_DATABASE_URL = f"sqlite:///{INSTANCE_DIR / 'outreach.sqlite3'}"
# Seconds a request waits on PostgreSQL before it answers 503: to connect, for a pooled
# connection, for one statement (a lock held elsewhere, a server that stopped answering).
DEFAULT_DATABASE_CONNECT_TIMEOUT = 2
DEFAULT_DATABASE_POOL_TIMEOUT = 2
DEFAULT_DATABASE_STATEMENT_TIMEOUT = 4
# Below this many MiB free on the disk of an SQLite database, /healthz answers 503.
DEFAULT_SQLITE_MIN_FREE_MB = 64
# Flask-Limiter's in-process storage: right for one process; several instances share Redis.
DEFAULT_RATELIMIT_STORAGE_URL = "memory://"
# Seconds a login waits for Redis before Flask-Limiter counts in memory instead.
DEFAULT_RATELIMIT_STORAGE_TIMEOUT = 1
DEFAULT_LOGIN_LIMIT_ACCOUNT = "5 per 5 minutes;20 per hour"
DEFAULT_LOGIN_LIMIT_IP = "30 per 5 minutes;200 per hour"
# Follow-up lookups by code: a night's work is a few dozen; a sweep of the code space
# (initials and a birth year) is thousands.
DEFAULT_FOLLOWUP_LIMIT_ACCOUNT = "30 per hour;100 per day"
DEFAULT_FOLLOWUP_LIMIT_ASSOCIATION = "120 per hour;400 per day"
# Days after which an open referral (proposed or accepted) is to be followed up ("à relancer").
DEFAULT_REFERRAL_OVERDUE_DAYS = 7
MAX_REFERRAL_OVERDUE_DAYS = 365
DESTINATION_CODE = re.compile(r"[a-z0-9_]{1,32}")
# Coverage board (docs/coverage.md): nights without a patrol before a zone is flagged.
DEFAULT_COVERAGE_GAP_NIGHTS = 3
MAX_COVERAGE_GAP_NIGHTS = 60  # the board looks back that far (coverage/services.py)

ENVIRONMENTS = ("development", "production")


class ConfigError(RuntimeError):
    """The environment does not describe a configuration the app may start with."""


@dataclass(frozen=True, slots=True)
class Settings:
    env: str = "development"
    database_url: str = DEFAULT_DATABASE_URL
    database_connect_timeout: int = DEFAULT_DATABASE_CONNECT_TIMEOUT
    database_pool_timeout: int = DEFAULT_DATABASE_POOL_TIMEOUT
    database_statement_timeout: int = DEFAULT_DATABASE_STATEMENT_TIMEOUT
    sqlite_min_free_mb: int = DEFAULT_SQLITE_MIN_FREE_MB
    secret_key: str = DEV_SECRET_KEY
    pseudonym_key: str = DEV_PSEUDONYM_KEY
    # argon2id cost: argon2-cffi's RFC 9106 low-memory profile (above OWASP's minimum).
    argon2_time_cost: int = 3
    argon2_memory_cost_kib: int = 65536
    argon2_parallelism: int = 4
    # Night patrols last long: a worker must not be logged out mid-shift.
    session_idle_minutes: int = 120
    # However active, a session ends this long after the login.
    session_absolute_hours: int = 12
    max_content_length: int = 2 * 1024 * 1024
    # Failed logins (and second-factor codes) allowed per account and per client address,
    # in Flask-Limiter's notation ("5 per 5 minutes;20 per hour").
    ratelimit_storage_url: str = DEFAULT_RATELIMIT_STORAGE_URL
    ratelimit_storage_timeout: int = DEFAULT_RATELIMIT_STORAGE_TIMEOUT
    login_limit_account: str = DEFAULT_LOGIN_LIMIT_ACCOUNT
    login_limit_ip: str = DEFAULT_LOGIN_LIMIT_IP
    # Follow-up lookups by code allowed per account and per association (same notation),
    # and the weekly count per account that the team page flags as unusual.
    followup_limit_account: str = DEFAULT_FOLLOWUP_LIMIT_ACCOUNT
    followup_limit_association: str = DEFAULT_FOLLOWUP_LIMIT_ASSOCIATION
    followup_unusual_per_week: int = 60
    # Referral queue: days before an open referral is overdue, and per destination code
    # overrides ("shelter_115=2,csapa=14" in REFERRAL_OVERDUE_DAYS_BY_DESTINATION).
    referral_overdue_days: int = DEFAULT_REFERRAL_OVERDUE_DAYS
    referral_overdue_by_destination: tuple[tuple[str, int], ...] = ()
    # Retention (`flask outreach purge`): contacts, then the audit log.
    contact_retention_months: int = 24
    audit_retention_months: int = 12
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto are trusted.
    trusted_proxy_hops: int = 0
    # Funders' figures (cell key method, docs/reports.md): counts from 1 to threshold - 1
    # are published as 0; larger counts move by at most perturbation_max_noise.
    suppression_threshold: int = 5
    perturbation_max_noise: int = 3
    # Coverage board: a zone without any patrol for this many nights in a row stands out.
    coverage_gap_nights: int = DEFAULT_COVERAGE_GAP_NIGHTS
    testing: bool = False

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        environ = os.environ if environ is None else environ
        env = environ.get("OUTREACH_ENV", "development").strip() or "development"
        if env not in ENVIRONMENTS:
            raise ConfigError(f"OUTREACH_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}")
        settings = cls(
            env=env,
            database_url=environ.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL,
            database_connect_timeout=_positive_int(
                environ, "DATABASE_CONNECT_TIMEOUT", DEFAULT_DATABASE_CONNECT_TIMEOUT, minimum=2
            ),
            database_pool_timeout=_positive_int(
                environ, "DATABASE_POOL_TIMEOUT", DEFAULT_DATABASE_POOL_TIMEOUT
            ),
            database_statement_timeout=_positive_int(
                environ, "DATABASE_STATEMENT_TIMEOUT", DEFAULT_DATABASE_STATEMENT_TIMEOUT, minimum=0
            ),
            secret_key=environ.get("SECRET_KEY", "") or DEV_SECRET_KEY,
            pseudonym_key=environ.get("PSEUDONYM_KEY", "") or DEV_PSEUDONYM_KEY,
            session_idle_minutes=_positive_int(environ, "SESSION_IDLE_MINUTES", 120),
            session_absolute_hours=_positive_int(environ, "SESSION_ABSOLUTE_HOURS", 12),
            sqlite_min_free_mb=_positive_int(
                environ, "SQLITE_MIN_FREE_MB", DEFAULT_SQLITE_MIN_FREE_MB, minimum=0
            ),
            ratelimit_storage_url=(
                environ.get("RATELIMIT_STORAGE_URL", "").strip()
                or environ.get("REDIS_URL", "").strip()
                or DEFAULT_RATELIMIT_STORAGE_URL
            ),
            ratelimit_storage_timeout=_positive_int(
                environ, "RATELIMIT_STORAGE_TIMEOUT", DEFAULT_RATELIMIT_STORAGE_TIMEOUT
            ),
            login_limit_account=environ.get("LOGIN_LIMIT_ACCOUNT", "").strip()
            or DEFAULT_LOGIN_LIMIT_ACCOUNT,
            login_limit_ip=environ.get("LOGIN_LIMIT_IP", "").strip() or DEFAULT_LOGIN_LIMIT_IP,
            followup_limit_account=environ.get("FOLLOWUP_LIMIT_ACCOUNT", "").strip()
            or DEFAULT_FOLLOWUP_LIMIT_ACCOUNT,
            followup_limit_association=environ.get("FOLLOWUP_LIMIT_ASSOCIATION", "").strip()
            or DEFAULT_FOLLOWUP_LIMIT_ASSOCIATION,
            followup_unusual_per_week=_positive_int(environ, "FOLLOWUP_UNUSUAL_PER_WEEK", 60),
            referral_overdue_days=_positive_int(
                environ, "REFERRAL_OVERDUE_DAYS", DEFAULT_REFERRAL_OVERDUE_DAYS
            ),
            referral_overdue_by_destination=_days_by_destination(
                environ.get("REFERRAL_OVERDUE_DAYS_BY_DESTINATION", "")
            ),
            contact_retention_months=_positive_int(environ, "CONTACT_RETENTION_MONTHS", 24),
            audit_retention_months=_positive_int(environ, "AUDIT_RETENTION_MONTHS", 12),
            trusted_proxy_hops=_positive_int(environ, "TRUSTED_PROXY_HOPS", 0, minimum=0),
            suppression_threshold=_positive_int(environ, "SUPPRESSION_THRESHOLD", 5, minimum=2),
            perturbation_max_noise=_positive_int(environ, "PERTURBATION_MAX_NOISE", 3, minimum=2),
            coverage_gap_nights=_positive_int(
                environ, "COVERAGE_GAP_NIGHTS", DEFAULT_COVERAGE_GAP_NIGHTS
            ),
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        _check_limits("LOGIN_LIMIT_ACCOUNT", self.login_limit_account)
        _check_limits("LOGIN_LIMIT_IP", self.login_limit_ip)
        _check_limits("FOLLOWUP_LIMIT_ACCOUNT", self.followup_limit_account)
        _check_limits("FOLLOWUP_LIMIT_ASSOCIATION", self.followup_limit_association)
        _check_overdue_days("REFERRAL_OVERDUE_DAYS", self.referral_overdue_days)
        seen: set[str] = set()
        for code, days in self.referral_overdue_by_destination:
            if not DESTINATION_CODE.fullmatch(code) or code in seen:
                raise ConfigError(
                    f"REFERRAL_OVERDUE_DAYS_BY_DESTINATION: {code!r} is not a destination "
                    "code, or is given twice"
                )
            seen.add(code)
            _check_overdue_days(f"REFERRAL_OVERDUE_DAYS_BY_DESTINATION ({code})", days)
        if not 1 <= self.coverage_gap_nights <= MAX_COVERAGE_GAP_NIGHTS:
            raise ConfigError(f"COVERAGE_GAP_NIGHTS must be from 1 to {MAX_COVERAGE_GAP_NIGHTS}")
        if self.session_idle_minutes > self.session_absolute_hours * 60:
            raise ConfigError("SESSION_IDLE_MINUTES cannot exceed SESSION_ABSOLUTE_HOURS")
        if not self.is_production:
            return
        for name, value, dev_value in (
            ("SECRET_KEY", self.secret_key, DEV_SECRET_KEY),
            ("PSEUDONYM_KEY", self.pseudonym_key, DEV_PSEUDONYM_KEY),
        ):
            if value == dev_value or len(value) < MIN_SECRET_LENGTH:
                raise ConfigError(
                    f"{name} must be set to a random secret of at least {MIN_SECRET_LENGTH} "
                    "characters in production"
                )
        if self.database_url.startswith("sqlite"):
            raise ConfigError("production runs on PostgreSQL: set DATABASE_URL")
        if self.ratelimit_storage_url.startswith("memory://"):
            # Each gunicorn worker would count on its own: the login limits multiplied.
            raise ConfigError(
                "production shares its rate limits between workers and instances: "
                "set RATELIMIT_STORAGE_URL to Redis"
            )
        if self.secret_key == self.pseudonym_key:
            raise ConfigError("SECRET_KEY and PSEUDONYM_KEY must differ")
        if (
            self.argon2_memory_cost_kib < OWASP_ARGON2_MIN_MEMORY_KIB
            or self.argon2_time_cost < OWASP_ARGON2_MIN_TIME_COST
        ):
            raise ConfigError("argon2id parameters below OWASP's minimum in production")


def _positive_int(environ: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}")
    return value


def _days_by_destination(raw: str) -> tuple[tuple[str, int], ...]:
    """'shelter_115=2, csapa=14' as (code, days) pairs; validate() checks them."""
    pairs = []
    for item in raw.split(","):
        if not item.strip():
            continue
        code, sign, days = item.partition("=")
        try:
            value = int(days.strip()) if sign else None
        except ValueError:
            value = None
        if value is None:
            raise ConfigError(
                "REFERRAL_OVERDUE_DAYS_BY_DESTINATION takes code=days pairs separated by "
                f"commas (shelter_115=2,csapa=14), not {item.strip()!r}"
            )
        pairs.append((code.strip(), value))
    return tuple(pairs)


def _check_overdue_days(name: str, days: int) -> None:
    if not 1 <= days <= MAX_REFERRAL_OVERDUE_DAYS:
        raise ConfigError(f"{name} must be between 1 and {MAX_REFERRAL_OVERDUE_DAYS} days")


def _check_limits(name: str, value: str) -> None:
    try:
        parsed = parse_many(value)
    except ValueError:
        parsed = []
    if not parsed:
        raise ConfigError(f"{name} is not a rate limit such as '5 per 5 minutes': {value!r}")


def get_settings(app: Flask) -> Settings:
    """The settings the app was created with."""
    settings: Settings = app.extensions["outreach_settings"]
    return settings
