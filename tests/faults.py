"""Throwaway Redis and PostgreSQL servers for the fault tests, and a stopwatch.

Each server runs on a free port in the test's temporary folder, is frozen (SIGSTOP),
thawed and stopped by the test that started it, and by no other: nothing here touches
the machine's own Redis or PostgreSQL. Without the binaries the tests skip, except under
`CI=true`, where they fail.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest

T = TypeVar("T")
# The most any request may wait while a dependency is down (issue 19).
MAX_WAIT_SECONDS = 5.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run this fault test: {reason}")
    pytest.skip(reason)


def timed(*calls: Callable[[], T], limit: float = MAX_WAIT_SECONDS + 3) -> list[tuple[T, float]]:
    """Run the calls at once, each in its own thread: each one's result and the seconds it
    took. Fails, without waiting for the stragglers, when one still runs after `limit`."""
    outcomes: list[dict[str, Any]] = [{} for _ in calls]

    def run(call: Callable[[], T], outcome: dict[str, Any]) -> None:
        started = time.monotonic()
        try:
            outcome["value"] = call()
        except BaseException as error:  # handed to the test's thread
            outcome["error"] = error
        outcome["seconds"] = time.monotonic() - started

    workers = [
        threading.Thread(target=run, args=(call, outcome), daemon=True)
        for call, outcome in zip(calls, outcomes, strict=True)
    ]
    deadline = time.monotonic() + limit
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(max(0.0, deadline - time.monotonic()))
    if any(worker.is_alive() for worker in workers):
        pytest.fail(f"{sum(w.is_alive() for w in workers)} request(s) still wait after {limit} s")
    for outcome in outcomes:
        if "error" in outcome:
            raise outcome["error"]
    return [(outcome["value"], outcome["seconds"]) for outcome in outcomes]


def _wait_for(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not happen within {seconds} s")
        time.sleep(0.05)


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class RedisServer:
    """`redis-server` without persistence on a free port."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            missing("redis-server is not installed")
        self.binary = str(binary)
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 (fixed argv)
            [
                *(self.binary, "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for(lambda: _accepts(self.port), 10, "redis-server start")

    def freeze(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGCONT)
        self.process.terminate()
        self.process.wait(timeout=10)
        self.process = None


@contextmanager
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        missing("no PostgreSQL binaries under /usr/lib/postgresql/*/bin")
    return Path(found[-1]).parent


class PostgresCluster:
    """A cluster of its own (initdb, pg_ctl) in a temporary folder, on a free port.

    initdb and the server refuse to run as root: as root they run as `postgres`, in a
    folder of theirs (pytest's own temporary folders are closed to other users).
    """

    def __init__(self) -> None:
        self.bin = _postgres_bin()
        self.port = free_port()
        directory = Path(tempfile.mkdtemp(prefix="outreach-faults-"))
        self.directory = directory
        self.data = directory / "pgdata"
        self.log = directory / "postgres.log"
        self.run_as: list[str] = []
        if os.geteuid() == 0:
            runuser = shutil.which("runuser")
            if runuser is None:
                missing("running as root without runuser to start PostgreSQL as postgres")
            self.run_as = [str(runuser), "-u", "postgres", "--"]
            shutil.chown(directory, "postgres")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *argv: str) -> None:
        subprocess.run(  # noqa: S603 (fixed argv)
            [*self.run_as, *argv], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )

    def _pg_ctl(self, *argv: str) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), *argv)

    def init(self) -> None:
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-N"
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg_ctl("-l", str(self.log), "-o", options, "-w", "start")

    def stop(self) -> None:
        """An abrupt stop, as a crash or a killed host: connections cut, no checkpoint."""
        self.thaw()
        self._pg_ctl("-m", "immediate", "-w", "stop")

    def _pids(self) -> list[int]:
        """The postmaster and every process it started (backends, background workers)."""
        pid_file = self.data / "postmaster.pid"
        if not pid_file.exists():
            return []
        postmaster = int(pid_file.read_text().split()[0])
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == postmaster:
                children.append(int(stat.parent.name))
        return [postmaster, *children]

    def freeze(self) -> None:
        for pid in self._pids():
            os.kill(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        for pid in self._pids():
            os.kill(pid, signal.SIGCONT)

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.stop()
        shutil.rmtree(self.directory)
