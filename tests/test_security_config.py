"""Security settings read from the environment, and what production refuses."""

from __future__ import annotations

from dataclasses import replace

import pytest

from config import ConfigError, Settings

PRODUCTION = {
    "OUTREACH_ENV": "production",
    "DATABASE_URL": "postgresql+psycopg://outreach@db/outreach",
    "SECRET_KEY": "s" * 40,
    "PSEUDONYM_KEY": "p" * 40,
    "RATELIMIT_STORAGE_URL": "redis://redis.internal:6379/0",
}


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.session_idle_minutes == 120
    assert settings.session_absolute_hours == 12
    assert settings.ratelimit_storage_url == "memory://"
    assert settings.contact_retention_months == 24
    assert settings.audit_retention_months == 12
    assert settings.trusted_proxy_hops == 0


def test_everything_can_be_set_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "SESSION_IDLE_MINUTES": "240",
            "SESSION_ABSOLUTE_HOURS": "10",
            "REDIS_URL": "redis://cache:6379/0",
            "LOGIN_LIMIT_ACCOUNT": "3 per minute",
            "LOGIN_LIMIT_IP": "100 per hour",
            "CONTACT_RETENTION_MONTHS": "36",
            "AUDIT_RETENTION_MONTHS": "18",
            "TRUSTED_PROXY_HOPS": "1",
        }
    )
    assert (settings.session_idle_minutes, settings.session_absolute_hours) == (240, 10)
    assert settings.ratelimit_storage_url == "redis://cache:6379/0"
    assert (settings.login_limit_account, settings.login_limit_ip) == (
        "3 per minute",
        "100 per hour",
    )
    assert (settings.contact_retention_months, settings.audit_retention_months) == (36, 18)
    assert settings.trusted_proxy_hops == 1


def test_ratelimit_storage_url_wins_over_redis_url() -> None:
    settings = Settings.from_env(
        {"RATELIMIT_STORAGE_URL": "redis://a:6379/1", "REDIS_URL": "redis://b:6379/0"}
    )
    assert settings.ratelimit_storage_url == "redis://a:6379/1"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"SESSION_IDLE_MINUTES": "two hours"}, "whole number"),
        ({"SESSION_IDLE_MINUTES": "0"}, "at least 1"),
        ({"SESSION_IDLE_MINUTES": "800"}, "cannot exceed"),
        ({"CONTACT_RETENTION_MONTHS": "-1"}, "at least 1"),
        ({"LOGIN_LIMIT_IP": "plenty"}, "LOGIN_LIMIT_IP"),
        ({"TRUSTED_PROXY_HOPS": "-1"}, "at least 0"),
    ],
)
def test_bad_values_are_refused_at_start(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(environ)


def test_production_refuses_argon2_below_owasp() -> None:
    settings = Settings.from_env(PRODUCTION)
    assert settings.is_production
    with pytest.raises(ConfigError, match="OWASP"):
        replace(settings, argon2_memory_cost_kib=8).validate()


def test_production_refuses_per_process_rate_limits() -> None:
    """memory:// counts in each gunicorn worker: five workers, five times the login limits."""
    Settings.from_env(PRODUCTION).validate()
    with pytest.raises(ConfigError, match="RATELIMIT_STORAGE_URL"):
        Settings.from_env({**PRODUCTION, "RATELIMIT_STORAGE_URL": ""}).validate()
    with pytest.raises(ConfigError, match="RATELIMIT_STORAGE_URL"):
        Settings.from_env({**PRODUCTION, "RATELIMIT_STORAGE_URL": "memory://"}).validate()
