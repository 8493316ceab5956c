"""The database engine's set-up for the embedded SQLite, and the views that may read before
they take its write lock. PostgreSQL needs none of it."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine

# Key of a pooled SQLite connection's writer lock file (see configure_sqlite).
_WRITER_LOCK = "outreach_writer_lock"
# Whether the current request may read before it takes SQLite's write lock: only in the
# views marked `writes_idempotently`, set for their whole request (choose_lock_mode).
_LOCK_AT_FIRST_WRITE: ContextVar[bool] = ContextVar("lock_at_first_write", default=False)

View = TypeVar("View", bound=Callable[..., Any])


def writes_idempotently(view: View) -> View:
    """Mark a view whose writes are right whatever it read before (INSERT ... ON CONFLICT,
    a replay is answered from the row stored): on SQLite its reads need not wait for the
    write lock. Every other request takes it at its first statement (configure_sqlite)."""
    view.writes_idempotently = True  # type: ignore[attr-defined]
    return view


@contextmanager
def lock_at_first_write() -> Iterator[None]:
    """Within this block, SQLite connections take the write lock at the first write only."""
    token = _LOCK_AT_FIRST_WRITE.set(True)
    try:
        yield
    finally:
        _LOCK_AT_FIRST_WRITE.reset(token)


def set_lock_at_first_write(enabled: bool) -> None:
    """For the current request (choose_lock_mode in the factory)."""
    _LOCK_AT_FIRST_WRITE.set(enabled)


def configure_sqlite(engine: Engine) -> None:
    """WAL, durable commits, foreign keys, secure_delete, and SQLite's write lock taken up
    front, by BEGIN IMMEDIATE.

    A request's first statement starts its transaction with BEGIN IMMEDIATE, which takes
    the write lock: requests that read then write are serialised, and a transaction never
    has to upgrade a read snapshot to a write (which fails when another writer committed
    in between). Captures are the exception (`writes_idempotently`, `lock_at_first_write`):
    their reads run as they come, and the first statement that is not a SELECT (a write, a
    SAVEPOINT, DDL) starts the transaction, so that 16 workers do not queue on their
    session lookups and validation (docs/perf-history.md).

    Before that, a connection to a database file takes an exclusive flock on a file
    beside it, until it goes back to the pool: writers of every thread and process queue
    in the kernel, and the next one starts as soon as the previous one is done. SQLite's
    busy handler alone polls with sleeps growing to 100 ms: with a dozen writers waiting,
    some lost every race for 10 s and failed ("database is locked", bench/throughput.py).
    """
    database = engine.url.database
    lock_path = (
        f"{database}-writer.lock"
        if database and database != ":memory:" and not database.startswith("file:")
        else None
    )
    if database and lock_path is not None:  # the embedded database's folder on a fresh install
        Path(database).parent.mkdir(parents=True, exist_ok=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None  # no implicit BEGIN: we issue our own
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        # FULL: a commit returns once the write-ahead log is on disk, so that a 201 survives
        # a power loss (NORMAL may lose the last commits); its cost: bench/durability.py.
        cursor.execute("PRAGMA synchronous=FULL")
        # Deleted rows are overwritten with zeros, not left in free space (the purge).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()
        if lock_path is not None:  # one open file per connection: flock excludes between them
            record.info[_WRITER_LOCK] = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)

    @event.listens_for(engine, "before_cursor_execute")
    def _before_execute(
        connection: Any,
        cursor: Any,
        statement: str,
        _parameters: Any,
        _context: Any,
        _executemany: bool,
    ) -> None:
        if connection.connection.dbapi_connection.in_transaction:
            return
        if _LOCK_AT_FIRST_WRITE.get() and statement.lstrip()[:6].upper() == "SELECT":
            return
        if _WRITER_LOCK in connection.info:
            fcntl.flock(connection.info[_WRITER_LOCK], fcntl.LOCK_EX)
        cursor.execute("BEGIN IMMEDIATE")

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        if _WRITER_LOCK in record.info:  # committed or rolled back by now
            fcntl.flock(record.info[_WRITER_LOCK], fcntl.LOCK_UN)

    @event.listens_for(engine, "close")
    def _on_close(_dbapi_connection: Any, record: Any) -> None:
        lock = record.info.pop(_WRITER_LOCK, None)
        if lock is not None:
            os.close(lock)  # releases the flock too
