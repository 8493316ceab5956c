from __future__ import annotations

import pytest

from config import DEV_PSEUDONYM_KEY, DEV_SECRET_KEY, ConfigError, Settings

GOOD = {
    "OUTREACH_ENV": "production",
    "DATABASE_URL": "postgresql+psycopg://outreach@db/outreach",
    "SECRET_KEY": "s" * 40,
    "PSEUDONYM_KEY": "p" * 40,
    "RATELIMIT_STORAGE_URL": "redis://redis.internal:6379/0",
}


def test_development_starts_with_nothing_set() -> None:
    settings = Settings.from_env({})
    assert settings.env == "development"
    assert settings.database_url.startswith("sqlite:///")
    assert settings.database_url.endswith("instance/outreach.sqlite3")
    assert settings.secret_key == DEV_SECRET_KEY


def test_production_with_real_secrets_starts() -> None:
    settings = Settings.from_env(GOOD)
    assert settings.is_production
    assert settings.secret_key == "s" * 40


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"SECRET_KEY": DEV_SECRET_KEY}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"PSEUDONYM_KEY": ""}, "PSEUDONYM_KEY"),
        ({"PSEUDONYM_KEY": DEV_PSEUDONYM_KEY}, "PSEUDONYM_KEY"),
        ({"DATABASE_URL": ""}, "PostgreSQL"),
        ({"PSEUDONYM_KEY": "s" * 40}, "differ"),
    ],
)
def test_production_refuses_missing_or_development_secrets(
    override: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({**GOOD, **override})


def test_unknown_environment_is_refused() -> None:
    with pytest.raises(ConfigError, match="OUTREACH_ENV"):
        Settings.from_env({"OUTREACH_ENV": "staging"})


def test_settings_are_frozen() -> None:
    settings = Settings.from_env({})
    with pytest.raises(AttributeError):
        settings.secret_key = "changed"  # type: ignore[misc]


def test_suppression_threshold_is_configured_once_and_checked() -> None:
    assert Settings.from_env({}).suppression_threshold == 5
    assert Settings.from_env({"SUPPRESSION_THRESHOLD": "10"}).suppression_threshold == 10
    with pytest.raises(ConfigError, match="SUPPRESSION_THRESHOLD"):
        Settings.from_env({"SUPPRESSION_THRESHOLD": "1"})


def test_perturbation_max_noise_is_configured_once_and_checked() -> None:
    assert Settings.from_env({}).perturbation_max_noise == 3
    assert Settings.from_env({"PERTURBATION_MAX_NOISE": "4"}).perturbation_max_noise == 4
    for bad in ("1", "0", "three"):
        with pytest.raises(ConfigError, match="PERTURBATION_MAX_NOISE"):
            Settings.from_env({"PERTURBATION_MAX_NOISE": bad})


def test_timeouts_toward_postgresql_and_redis_are_configured_once_and_checked() -> None:
    settings = Settings.from_env(
        {
            "DATABASE_CONNECT_TIMEOUT": "3",
            "DATABASE_POOL_TIMEOUT": "1",
            "DATABASE_STATEMENT_TIMEOUT": "0",
            "RATELIMIT_STORAGE_TIMEOUT": "2",
            "SQLITE_MIN_FREE_MB": "0",
        }
    )
    assert (settings.database_connect_timeout, settings.database_pool_timeout) == (3, 1)
    assert settings.database_statement_timeout == 0  # none, for a long one-off command
    assert (settings.ratelimit_storage_timeout, settings.sqlite_min_free_mb) == (2, 0)
    defaults = Settings.from_env({})
    assert (defaults.database_connect_timeout, defaults.database_statement_timeout) == (2, 4)
    with pytest.raises(ConfigError, match="DATABASE_CONNECT_TIMEOUT"):
        Settings.from_env({"DATABASE_CONNECT_TIMEOUT": "1"})  # libpq's minimum is 2
    with pytest.raises(ConfigError, match="RATELIMIT_STORAGE_TIMEOUT"):
        Settings.from_env({"RATELIMIT_STORAGE_TIMEOUT": "0"})


def test_referral_overdue_delays_default_to_seven_days_and_take_overrides() -> None:
    settings = Settings.from_env({})
    assert settings.referral_overdue_days == 7
    assert settings.referral_overdue_by_destination == ()
    settings = Settings.from_env(
        {
            "REFERRAL_OVERDUE_DAYS": "10",
            "REFERRAL_OVERDUE_DAYS_BY_DESTINATION": " shelter_115=2, csapa = 14 ,",
        }
    )
    assert settings.referral_overdue_days == 10
    assert settings.referral_overdue_by_destination == (("shelter_115", 2), ("csapa", 14))


@pytest.mark.parametrize(
    "environ",
    [
        {"REFERRAL_OVERDUE_DAYS": "0"},
        {"REFERRAL_OVERDUE_DAYS": "a week"},
        {"REFERRAL_OVERDUE_DAYS": "400"},
        {"REFERRAL_OVERDUE_DAYS_BY_DESTINATION": "shelter_115"},
        {"REFERRAL_OVERDUE_DAYS_BY_DESTINATION": "shelter_115=two"},
        {"REFERRAL_OVERDUE_DAYS_BY_DESTINATION": "shelter_115=0"},
        {"REFERRAL_OVERDUE_DAYS_BY_DESTINATION": "Shelter 115=3"},
        {"REFERRAL_OVERDUE_DAYS_BY_DESTINATION": "csapa=3,csapa=4"},
    ],
)
def test_referral_overdue_delays_are_checked_at_start(environ: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="REFERRAL_OVERDUE_DAYS"):
        Settings.from_env(environ)
