"""SQLite writers queue on a lock file beside the database (outreach.db.configure_sqlite)."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, create_engine, event, text

from outreach.db import configure_sqlite, lock_at_first_write
from outreach.extensions import db

from .conftest import AuthActions, World
from .support import Api, contact


@pytest.fixture
def database(tmp_path: Path) -> Iterator[tuple[Engine, Path]]:
    path = tmp_path / "writers.sqlite3"
    engine = create_engine(f"sqlite:///{path}")
    configure_sqlite(engine)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE items (n INTEGER)"))
    yield engine, Path(f"{path}-writer.lock")
    engine.dispose()


def _is_free(lock_path: Path) -> bool:
    """Whether another writer could take the lock now (without waiting for it)."""
    descriptor = os.open(lock_path, os.O_RDWR)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(descriptor)  # releases it if taken
    return True


def test_a_transaction_holds_the_writer_lock_until_its_connection_is_back_in_the_pool(
    database: tuple[Engine, Path],
) -> None:
    engine, lock_path = database
    assert _is_free(lock_path)
    with engine.connect() as connection:
        connection.execute(text("INSERT INTO items VALUES (1)"))
        assert not _is_free(lock_path)
        connection.commit()
        connection.execute(text("INSERT INTO items VALUES (2)"))  # a second transaction
        connection.commit()
    assert _is_free(lock_path)


def test_a_request_takes_the_lock_at_its_first_statement(database: tuple[Engine, Path]) -> None:
    """The default: a request that reads then writes is serialised with every other one."""
    engine, lock_path = database
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM items")).scalar_one() == 0
        assert not _is_free(lock_path)
        connection.rollback()
    assert _is_free(lock_path)


def test_a_capture_reads_without_the_lock_until_its_first_write(
    database: tuple[Engine, Path],
) -> None:
    engine, lock_path = database
    with lock_at_first_write(), engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM items")).scalar_one() == 0
        assert _is_free(lock_path), "a capture's reads must not keep writers waiting"
        connection.execute(text("INSERT INTO items VALUES (1)"))
        assert not _is_free(lock_path)
        assert connection.execute(text("SELECT count(*) FROM items")).scalar_one() == 1
        connection.rollback()
    assert _is_free(lock_path)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM items")).scalar_one() == 0


def test_a_capture_reads_each_commit_while_a_writer_holds_the_lock(
    database: tuple[Engine, Path],
) -> None:
    engine, lock_path = database
    with engine.connect() as writer:
        writer.execute(text("INSERT INTO items VALUES (1)"))
        writer.commit()
        writer.execute(text("INSERT INTO items VALUES (2)"))  # holds the lock, uncommitted
        assert not _is_free(lock_path)
        with lock_at_first_write(), engine.connect() as reader:
            # WAL: the reader neither waits nor sees the uncommitted row.
            assert reader.execute(text("SELECT count(*) FROM items")).scalar_one() == 1
            writer.commit()
            assert reader.execute(text("SELECT count(*) FROM items")).scalar_one() == 2
            reader.rollback()


def test_a_savepoint_starts_the_write_transaction(database: tuple[Engine, Path]) -> None:
    engine, lock_path = database
    with lock_at_first_write(), engine.connect() as connection:
        connection.execute(text("SELECT 1"))
        assert _is_free(lock_path)
        with connection.begin_nested():
            assert not _is_free(lock_path)
            connection.execute(text("INSERT INTO items VALUES (1)"))
        connection.commit()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM items")).scalar_one() == 1


def test_only_the_capture_views_read_before_the_lock(app: Flask) -> None:
    marked = {
        endpoint
        for endpoint, view in app.view_functions.items()
        if getattr(view, "writes_idempotently", False)
    }
    assert marked == {"api.post_contacts", "capture.new_contact"}


def test_concurrent_writers_all_get_their_turn(database: tuple[Engine, Path]) -> None:
    engine, lock_path = database
    failures: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for n in range(25):
                with engine.begin() as connection:
                    connection.execute(text("INSERT INTO items VALUES (:n)"), {"n": worker * n})
        except BaseException as error:  # reported below
            failures.append(error)

    threads = [threading.Thread(target=write, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM items")).scalar_one() == 200
    assert _is_free(lock_path)


def test_an_in_memory_database_needs_no_lock_file() -> None:
    engine = create_engine("sqlite://")
    configure_sqlite(engine)
    with engine.begin() as connection:
        assert connection.execute(text("SELECT 1")).scalar_one() == 1
    engine.dispose()


def test_a_capture_request_reads_its_session_before_taking_the_lock(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World
) -> None:
    """The wiring: the lock mode is chosen before enforce_access looks the session up."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's write lock only")
    api = Api(client, auth)
    api.login(world, "worker")
    # Each request's first statement, and whether it ran inside a write transaction.
    first: list[tuple[str, bool]] = []

    def record(connection: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if not first:
            first.append((statement, connection.connection.dbapi_connection.in_transaction))

    event.listen(engine, "before_cursor_execute", record)
    try:
        assert api.post(contact()).status_code == 201
        capture = first.pop()
        assert client.get("/patrols").status_code == 200
        other = first.pop()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert capture[0].lstrip().startswith("SELECT") and capture[1] is False
    assert other[0].lstrip().startswith("SELECT") and other[1] is True
