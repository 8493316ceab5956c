"""Application configuration: one frozen, typed object read from the environment.

Production refuses to start without real secrets; development falls back to
clearly marked keys so that `make run` works on a bare machine.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent
INSTANCE_DIR = PROJECT_ROOT / "instance"

# Development-only secrets: recognisable so that production can refuse them.
DEV_SECRET_KEY = "dev-insecure-secret-key-do-not-use-in-production"  # noqa: S105 (refused in production)
DEV_PSEUDONYM_KEY = "dev-insecure-pseudonym-key-do-not-use-in-production"
MIN_SECRET_LENGTH = 32
DEFAULT_DATABASE_URL = f"sqlite:///{INSTANCE_DIR / 'outreach.sqlite3'}"

ENVIRONMENTS = ("development", "production")


class ConfigError(RuntimeError):
    """The environment does not describe a configuration the app may start with."""


@dataclass(frozen=True, slots=True)
class Settings:
    env: str = "development"
    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str = DEV_SECRET_KEY
    pseudonym_key: str = DEV_PSEUDONYM_KEY
    # argon2id cost: argon2-cffi's RFC 9106 low-memory profile (above OWASP's minimum).
    argon2_time_cost: int = 3
    argon2_memory_cost_kib: int = 65536
    argon2_parallelism: int = 4
    # Night patrols last long: a worker must not be logged out mid-shift.
    session_idle_minutes: int = 120
    max_content_length: int = 2 * 1024 * 1024
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
            secret_key=environ.get("SECRET_KEY", "") or DEV_SECRET_KEY,
            pseudonym_key=environ.get("PSEUDONYM_KEY", "") or DEV_PSEUDONYM_KEY,
        )
        settings.validate()
        return settings

    def validate(self) -> None:
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
        if self.secret_key == self.pseudonym_key:
            raise ConfigError("SECRET_KEY and PSEUDONYM_KEY must differ")
