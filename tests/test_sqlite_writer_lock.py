"""SQLite writers queue on a lock file beside the database (outreach._configure_sqlite)."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from outreach import _configure_sqlite


@pytest.fixture
def database(tmp_path: Path) -> Iterator[tuple[Engine, Path]]:
    path = tmp_path / "writers.sqlite3"
    engine = create_engine(f"sqlite:///{path}")
    _configure_sqlite(engine)
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


def test_reads_take_no_lock_until_the_first_write(database: tuple[Engine, Path]) -> None:
    engine, lock_path = database
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM items")).scalar_one() == 0
        assert _is_free(lock_path), "a read must not keep writers waiting"
        connection.execute(text("INSERT INTO items VALUES (1)"))
        assert not _is_free(lock_path)
        assert connection.execute(text("SELECT count(*) FROM items")).scalar_one() == 1
        connection.rollback()
    assert _is_free(lock_path)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM items")).scalar_one() == 0


def test_a_reader_sees_each_commit_while_a_writer_holds_the_lock(
    database: tuple[Engine, Path],
) -> None:
    engine, lock_path = database
    with engine.connect() as writer, engine.connect() as reader:
        writer.execute(text("INSERT INTO items VALUES (1)"))
        writer.commit()
        writer.execute(text("INSERT INTO items VALUES (2)"))  # holds the lock, uncommitted
        assert not _is_free(lock_path)
        # WAL: the reader neither waits nor sees the uncommitted row.
        assert reader.execute(text("SELECT count(*) FROM items")).scalar_one() == 1
        writer.commit()
        assert reader.execute(text("SELECT count(*) FROM items")).scalar_one() == 2
        reader.rollback()


def test_a_savepoint_starts_the_write_transaction(database: tuple[Engine, Path]) -> None:
    engine, lock_path = database
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
        with connection.begin_nested():
            assert not _is_free(lock_path)
            connection.execute(text("INSERT INTO items VALUES (1)"))
        connection.commit()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM items")).scalar_one() == 1


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
    _configure_sqlite(engine)
    with engine.begin() as connection:
        assert connection.execute(text("SELECT 1")).scalar_one() == 1
    engine.dispose()
