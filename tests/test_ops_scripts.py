"""The backup and restore scripts of docs/deploy.md, run as the guide runs them.

PostgreSQL only (TEST_DATABASE_URL): each test makes its own databases beside the test
database and drops them after.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from config import Settings
from outreach import create_app
from outreach.extensions import db
from outreach.models import Association, User

from .conftest import make_world
from .reports_fixtures import add_contact, paris

OPS = Path(__file__).resolve().parent.parent / "ops"
FLASK = Path(sys.executable).with_name("flask")


def _recreate(admin_url: URL, *names: str, create: bool) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for name in names:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            if create:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


@pytest.fixture
def production_like(settings: Settings) -> Iterator[tuple[str, str]]:
    """A migrated database holding one contact, and the name a restore may take."""
    url = make_url(settings.database_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("the backup scripts are for PostgreSQL (set TEST_DATABASE_URL)")
    source, restored = f"{url.database}_ops", f"{url.database}_ops_restore"
    _recreate(url, source, restored, create=False)
    _recreate(url, source, create=True)
    source_url = url.set(database=source).render_as_string(hide_password=False)
    app = create_app(replace(settings, database_url=source_url))
    with app.app_context():
        upgrade()
        world = make_world(app, settings)
        demo = db.session.get(Association, world.demo.id)
        author = db.session.get(User, world.id_of("worker"))
        assert demo and author
        add_contact(db.session, settings, demo, author, paris(2026, 3, 4, 22), code="Zo 1985")
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    try:
        yield source_url, restored
    finally:
        _recreate(url, source, restored, create=False)


def run(script: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "PATH": f"{FLASK.parent}{os.pathsep}{os.environ['PATH']}",
        "FLASK": str(FLASK),
        **env,
    }
    return subprocess.run(  # noqa: S603 (the repository's own scripts)
        ["/bin/bash", str(OPS / script), *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=OPS.parent,
        timeout=120,
        check=False,
    )


def test_a_backup_restores_into_a_new_database_at_this_releases_head(
    production_like: tuple[str, str], tmp_path: Path
) -> None:
    source_url, restored = production_like
    backup = run("backup.sh", str(tmp_path), DATABASE_URL=source_url)
    assert backup.returncode == 0, backup.stderr
    (dump,) = tmp_path.glob("*.dump")
    assert backup.stdout.strip() == str(dump)
    assert dump.stat().st_size > 0
    assert stat.S_IMODE(dump.stat().st_mode) == 0o600, "a dump holds pseudonyms"
    assert list(tmp_path.glob("*.roles.sql")), "the roles go with the dump"

    check = run("restore_check.sh", str(dump), restored, DATABASE_URL=source_url)
    assert check.returncode == 0, check.stderr
    assert f"restored into {restored}: revision" in check.stdout
    assert "1 contacts" in check.stdout


def test_a_failed_backup_leaves_nothing_that_looks_like_one(tmp_path: Path) -> None:
    unreachable = "postgresql+psycopg://postgres@127.0.0.1:1/nothing"
    backup = run("backup.sh", str(tmp_path), DATABASE_URL=unreachable)
    assert backup.returncode != 0
    assert list(tmp_path.iterdir()) == []


def test_an_encrypted_backup_restores_with_the_key(
    production_like: tuple[str, str], tmp_path: Path
) -> None:
    source_url, restored = production_like
    keys = tmp_path / "gnupg"
    keys.mkdir(mode=0o700)
    gpg = shutil.which("gpg")
    if gpg is None:
        pytest.skip("GnuPG is not installed")
    made = subprocess.run(  # noqa: S603 (GnuPG, found on PATH)
        [gpg, "--batch", "--passphrase", "", "--quick-gen-key", "backups@maraudes.test"],
        capture_output=True,
        env={**os.environ, "GNUPGHOME": str(keys)},
        timeout=120,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    folder = tmp_path / "backups"
    backup = run(
        "backup.sh",
        str(folder),
        DATABASE_URL=source_url,
        GNUPGHOME=str(keys),
        BACKUP_GPG_RECIPIENT="backups@maraudes.test",
    )
    assert backup.returncode == 0, backup.stderr
    assert sorted(path.suffix for path in folder.iterdir()) == [".gpg", ".gpg"], "no clear copy"
    (dump,) = folder.glob("*.dump.gpg")
    check = run(
        "restore_check.sh", str(dump), restored, DATABASE_URL=source_url, GNUPGHOME=str(keys)
    )
    assert check.returncode == 0, check.stderr
    assert "1 contacts" in check.stdout
