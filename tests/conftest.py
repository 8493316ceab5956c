"""Fixtures: app -> client -> auth (flaskr's habit), on SQLite or on TEST_DATABASE_URL.

The schema is built once per run by the real Alembic migrations, so every test
also exercises them; each test then starts from reference data only.
"""

from __future__ import annotations

import html
import importlib.util
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import delete, text
from werkzeug.test import TestResponse

from config import PROJECT_ROOT, Settings
from outreach import create_app
from outreach.auth.services import create_user
from outreach.demo.seed import _ensure_reference_data
from outreach.extensions import db
from outreach.models import Association, Material, Need, ReferralDestination, User

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
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()
        db.session.remove()
        db.engine.dispose()


def reset_database() -> None:
    """Empty every table, then restore the default taxonomies of the migration."""
    migration = load_initial_migration()
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(delete(table))
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
    with app.app_context():
        associations, _zones = _ensure_reference_data(db.session)
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

    def login_as(self, world: World, key: str) -> TestResponse:
        response = self.login(world.users[key].email)
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
