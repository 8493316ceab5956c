"""Fixtures: app -> client -> auth (flaskr's habit), on SQLite or on TEST_DATABASE_URL.

The schema is built once per run by the real Alembic migrations, so every test
also exercises them; each test then starts from reference data only.
"""

from __future__ import annotations

import html
import importlib.util
import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import delete, event, text
from werkzeug.test import TestResponse

from config import PROJECT_ROOT, Settings, get_settings
from outreach import create_app
from outreach.auth.services import create_user
from outreach.auth.totp import (
    INTERVAL_SECONDS,
    VALID_WINDOW,
    confirm_enrolment,
    decrypt_secret,
    has_totp,
    pending_secret,
    requires_totp,
    time_step,
)
from outreach.clock import now_utc
from outreach.demo.seed import ensure_reference_data
from outreach.extensions import db
from outreach.models import (
    Association,
    Material,
    Need,
    ReferralDestination,
    TaxonomyStamp,
    User,
)

PASSWORD = "correct horse battery staple"
TAXONOMY_TABLES = ("needs", "materials", "referral_destinations")


def load_initial_migration() -> ModuleType:
    path = PROJECT_ROOT / "migrations" / "versions" / "0001_initial_schema.py"
    spec = importlib.util.spec_from_file_location("initial_migration", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_test_settings(database_url: str) -> Settings:
    return Settings(
        env="development",
        database_url=database_url,
        secret_key="test-secret-key-0123456789abcdef0123456789",
        pseudonym_key="test-pseudonym-key-0123456789abcdef012345",
        # Cheap hashing in tests (cookiecutter-flask's habit); production keeps the defaults.
        argon2_time_cost=1,
        argon2_memory_cost_kib=8,
        argon2_parallelism=1,
        testing=True,
    )


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return make_test_settings(database_url)


@pytest.fixture(scope="session")
def _schema(settings: Settings) -> None:
    app = create_app(settings)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            # Start from nothing: migrations also create functions and triggers.
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        else:
            db.drop_all()
            with db.engine.begin() as connection:
                connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()
        db.session.remove()
        db.engine.dispose()


def reset_database() -> None:
    """Empty every table, then restore the default taxonomies of the migration.

    The taxonomy stamp keeps its single row, as in a migrated database: the triggers
    renew it as the taxonomies are emptied and filled again."""
    migration = load_initial_migration()
    for table in reversed(db.metadata.sorted_tables):
        if table is not TaxonomyStamp.__table__:
            db.session.execute(delete(table))
    if db.session.get(TaxonomyStamp, 1) is None:  # a test took it away
        db.session.add(TaxonomyStamp(id=1, stamp=secrets.token_hex(16)))
    db.session.add_all(
        Need(code=code, label_fr=fr, label_en=en, position=i, active=True)
        for i, (code, fr, en) in enumerate(migration.NEEDS)
    )
    db.session.add_all(
        Material(code=code, label_fr=fr, label_en=en, position=i, active=True, category=category)
        for i, (code, fr, en, category) in enumerate(migration.MATERIALS)
    )
    db.session.add_all(
        ReferralDestination(code=code, label_fr=fr, label_en=en, position=i, active=True)
        for i, (code, fr, en) in enumerate(migration.DESTINATIONS)
    )
    db.session.commit()


@pytest.fixture
def app(settings: Settings, _schema: None) -> Iterator[Flask]:
    app = create_app(settings)
    with app.app_context():
        reset_database()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@dataclass
class World:
    """Two associations, the demo zones and one account per role (plus the other tenant's)."""

    demo: Association
    other: Association
    users: dict[str, User]

    def id_of(self, key: str) -> int:
        return self.users[key].id


@pytest.fixture
def world(app: Flask, settings: Settings) -> World:
    return make_world(app, settings)


def make_world(app: Flask, settings: Settings) -> World:
    """The associations, zones and one account per role, in `app`'s database."""
    with app.app_context():
        associations, _zones = ensure_reference_data(db.session)
        users = {}
        for key, role, slug in (
            ("worker", "worker", "demo"),
            ("worker2", "worker", "demo"),
            ("supervisor", "supervisor", "demo"),
            ("funder", "funder", None),
            ("admin", "admin", None),
            ("other_worker", "worker", "other"),
            ("other_supervisor", "supervisor", "other"),
        ):
            users[key] = create_user(
                db.session,
                settings,
                email=f"{key}@{slug or 'platform'}.test",
                role=role,
                password=PASSWORD,
                display_name=key.replace("_", " ").title(),
                association=associations[slug] if slug else None,
            )
        db.session.commit()
        world = World(associations["demo"], associations["other"], users)
        for obj in (world.demo, world.other, *users.values()):
            db.session.refresh(obj)
        db.session.expunge_all()
        return world


CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def csrf_token_of(response: TestResponse) -> str:
    match = CSRF_META.search(response.get_data(as_text=True))
    assert match, "every page carries <meta name=csrf-token>"
    return match.group(1)


def enrol_totp(app: Flask, user_id: int) -> str:
    """Enrol the user's second factor through the service (if not yet); returns the secret."""
    with app.app_context():
        settings = get_settings(app)
        user = db.session.get(User, user_id)
        assert user is not None
        if has_totp(user):
            return decrypt_secret(settings, user)
        secret = pending_secret(db.session, settings, user)
        now = now_utc()
        code = pyotp.TOTP(secret, interval=INTERVAL_SECONDS).at(int(now.timestamp()))
        assert confirm_enrolment(db.session, settings, user, code, now) is not None
        db.session.commit()
        return secret


def totp_code_for(app: Flask, user_id: int) -> str:
    """A code the server accepts now for this user (enrolled first if needed).

    Each code works once: this picks the earliest time step of the accepted window that
    is later than the last one used. When a test has used them all (three logins of the
    same account within 30 s), it forgets the last used step, which only a test may do;
    tests/test_totp.py checks that the app itself refuses a replayed code.
    """
    secret = enrol_totp(app, user_id)
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        current = time_step(now_utc())
        last = user.totp_last_step
        window = range(current - VALID_WINDOW, current + VALID_WINDOW + 1)
        step = next((step for step in window if last is None or step > last), None)
        if step is None:
            user.totp_last_step = None
            db.session.commit()
            step = current
    return pyotp.TOTP(secret, interval=INTERVAL_SECONDS).at(step * INTERVAL_SECONDS)


class AuthActions:
    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def csrf_token(self) -> str:
        return csrf_token_of(self.client.get("/login"))

    def login(self, email: str, password: str = PASSWORD) -> TestResponse:
        token = self.csrf_token()
        return self.client.post(
            "/login", data={"email": email, "password": password, "csrf_token": token}
        )

    def second_factor(self, code: str) -> TestResponse:
        token = csrf_token_of(self.client.get("/login/code"))
        return self.client.post("/login/code", data={"code": code, "csrf_token": token})

    def login_as(self, world: World, key: str) -> TestResponse:
        """Log in as any role; supervisors, funders and admins get their second factor
        enrolled (through the service) and its code typed, transparently."""
        user = world.users[key]
        app = self.client.application
        if requires_totp(user):
            enrol_totp(app, user.id)
        response = self.login(user.email)
        assert response.status_code == 302, response.get_data(as_text=True)
        if response.location.startswith("/login/code"):
            response = self.second_factor(totp_code_for(app, user.id))
            assert response.status_code == 302, response.get_data(as_text=True)
        return response

    def logout(self) -> TestResponse:
        token = csrf_token_of(self.client.get("/", follow_redirects=True))
        return self.client.post("/logout", data={"csrf_token": token})

    def page_token(self, path: str = "/") -> str:
        """A CSRF token from a page seen by the logged-in user."""
        response = self.client.get(path, follow_redirects=True)
        return csrf_token_of(response)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS", PROJECT_ROOT / "test-artifacts"))


def text_of(response: TestResponse) -> str:
    """The page as a reader sees it: HTML entities (&#39; ...) decoded."""
    return html.unescape(response.get_data(as_text=True))


def production_settings(settings: Settings, database_url: str, redis_url: str) -> Settings:
    """The test settings as production requires them: argon2id at OWASP's minimum (the
    cheapest production accepts), a database and a Redis for the rate limits."""
    return replace(
        settings,
        env="production",
        database_url=database_url,
        ratelimit_storage_url=redis_url,
        argon2_time_cost=2,
        argon2_memory_cost_kib=19456,
        testing=False,
    )


# Rate limits shared by several processes, as in production (a database of its own).
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_or_skip() -> None:
    """Empty the test Redis database; skip when there is none, except in CI."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).flushdb()
    except redis.RedisError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run this test, but Redis is unreachable: {error}")
        pytest.skip(f"Redis unreachable at {REDIS_URL}: {error}")


@contextmanager
def recorded_statements(app: Flask) -> Iterator[list[str]]:
    """The SQL statements the app's engine runs within the block, in order."""
    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
