"""Capture cost in CPU instructions: the app's API and form against the floor, without noise.

`throughput.py` measures contacts/s on a shared 2-core machine, where one round moves by a
fifth. This script counts instead: the machine instructions (valgrind's callgrind) and
the Python function calls (sys.setprofile) that one contact costs the Python process,
through the API, through the HTML form and through the floor (`floor_app.py`). Each is
called in process, as gunicorn would call it, with a WSGI environ built beforehand: no
HTTP, no threads, no gunicorn. The count hardly depends on what else the machine is
doing (bench/README.md gives the spread of repeated runs). Python calls are the profiler's
"call" events, a generator's resumptions included.

Per path, on one prepared database: a child process logs in (the app paths), warms up
with 30 contacts, then stores N contacts; it runs twice under callgrind, with N = 10 and
N = 10 + --contacts, and the difference divided by --contacts is the cost of one contact
(start-up, login and warm-up cancel out). On PostgreSQL the server's own work is in
another process and not counted: only the Python side is.

    .venv/bin/python bench/instructions.py --database sqlite --contacts 200
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import throughput as tp

PATHS = ("floor", "api", "form")
WARM_CONTACTS = 30
BASE_CONTACTS = 10
PG_DATABASE = "bench_instructions"


@dataclass(frozen=True, slots=True)
class Prepared:
    url: str
    association_id: int
    email: str
    user_id: int
    patrol_id: int
    zone: str
    secret_key: str
    pseudonym_key: str


# -- the child: N contacts in process ------------------------------------------------------


def _environs(prepared: Prepared, path: str, built: int) -> tuple[Callable[..., Any], list[Any]]:
    """The WSGI callable of the path, and `built` + warm-up environs of new contacts."""
    from werkzeug.datastructures import MultiDict
    from werkzeug.test import EnvironBuilder

    worker = tp.Worker(prepared.email, prepared.user_id, prepared.patrol_id, prepared.zone)
    rng = random.Random(2026)  # synthetic data
    bodies = [tp.contact_body(rng, worker) for _ in range(WARM_CONTACTS + built)]
    if path == "floor":
        import floor_app

        query = f"author={prepared.user_id}&association={prepared.association_id}"
        return floor_app.app, [
            EnvironBuilder(
                path="/contacts",
                method="POST",
                query_string=query,
                data=json.dumps(body),
                content_type="application/json",
            ).get_environ()
            for body in bodies
        ]

    from wsgi import app

    client = app.test_client()
    token = tp.page_csrf_token(client.get("/login").text)
    answer = client.post(
        "/login", data={"email": prepared.email, "password": tp.PASSWORD, "csrf_token": token}
    )
    assert answer.status_code == 302, answer.status_code
    form_url = f"/patrols/{prepared.patrol_id}/contacts/new"
    form = client.get(form_url).text
    csrf_token = tp.hidden_field(form, "csrf_token")
    materials = re.findall(r'name="(material-[a-z0-9_]+)"', form)
    cookie = client.get_cookie("session")
    assert cookie is not None
    # The test client's address and user agent: Flask-Login's session protection compares
    # them with the login's, and would otherwise rewrite the cookie on every request.
    headers = {"Cookie": f"session={cookie.value}"}
    if path == "api":
        environs = [
            EnvironBuilder(
                path="/api/v1/contacts",
                method="POST",
                json=body,
                headers={**headers, "X-CSRFToken": csrf_token},
                environ_base=client.environ_base,
            )
            for body in bodies
        ]
    else:
        environs = [
            EnvironBuilder(
                path=form_url,
                method="POST",
                data=MultiDict(tp.form_fields(csrf_token, materials, body)),
                headers=headers,
                environ_base=client.environ_base,
            )
            for body in bodies
        ]
    return app.wsgi_app, [builder.get_environ() for builder in environs]


def child(prepared: Prepared, path: str, count: int, built: int, calls: bool) -> None:
    """Send `count` of `built` contacts (every run builds as many, so that the difference
    between two runs is the sending alone)."""
    from werkzeug.wrappers import Response

    wanted = {"floor": 201, "api": 201, "form": 302}[path]
    wsgi, environs = _environs(prepared, path, built)

    def send(part: list[Any]) -> None:
        for environ in part:
            answer = Response.from_app(wsgi, environ)
            assert answer.status_code == wanted, (answer.status_code, answer.get_data()[:200])

    send(environs[:WARM_CONTACTS])
    timed = environs[WARM_CONTACTS : WARM_CONTACTS + count]
    if not calls:
        send(timed)
        return
    print(json.dumps(_count_calls(lambda: send(timed), count)))


# Parts of a request whose calls are counted apart, each with everything it calls:
# (end of the file's path, function).
PARTS = {
    "request context: cookie session, routing": ("flask/ctx.py", "push"),
    "Flask-Limiter before the view": ("flask_limiter/_extension.py", "_check_request_limit"),
    "server-side session lookup": ("outreach/auth/sessions.py", "resolve_session"),
    "CSRF check (Flask-WTF)": ("flask_wtf/csrf.py", "protect"),
    "form fields read (form path)": ("outreach/capture/forms.py", "contact_payload_from_form"),
    "options query": ("outreach/capture/services.py", "load_capture_options"),
    "validation": ("outreach/capture/validation.py", "validate_contact"),
    "inserts (record_contacts)": ("outreach/capture/services.py", "record_contacts"),
    "after the view: commit, headers, cookie": ("flask/app.py", "process_response"),
    "request context closed": ("flask/ctx.py", "pop"),
}


def _count_calls(work: Callable[[], None], count: int) -> dict[str, Any]:
    """Python calls per contact while `work` runs: in all, and within each of PARTS."""
    total = 0
    parts: dict[str, int] = dict.fromkeys(PARTS, 0)
    active: dict[str, int] = dict.fromkeys(PARTS, 0)  # frames of the part on the stack
    part_of_code: dict[Any, str | None] = {}

    def part_of(code: Any) -> str | None:
        if code not in part_of_code:
            part_of_code[code] = next(
                (
                    name
                    for name, (file, function) in PARTS.items()
                    if code.co_name == function and code.co_filename.endswith(file)
                ),
                None,
            )
        return part_of_code[code]

    def profile(frame: Any, event: str, _arg: Any) -> None:
        nonlocal total
        if event == "call":
            total += 1
            if (own := part_of(frame.f_code)) is not None:
                active[own] += 1
            for name, depth in active.items():
                if depth:
                    parts[name] += 1
        elif event == "return" and (own := part_of(frame.f_code)) is not None:
            active[own] -= 1

    sys.setprofile(profile)
    work()
    sys.setprofile(None)
    return {"calls": total / count, "parts": {name: n / count for name, n in parts.items()}}


# -- the parent ----------------------------------------------------------------------------


def prepare(kind: str, workdir: Path) -> Prepared:
    url = tp.fresh_database(kind, workdir, PG_DATABASE)
    keys = {"SECRET_KEY": secrets.token_urlsafe(48), "PSEUDONYM_KEY": secrets.token_urlsafe(48)}
    env = {**os.environ, "OUTREACH_ENV": "development", "DATABASE_URL": url, **keys}
    association_id, [worker] = tp.prepare(env, 1, 300)
    return Prepared(
        url,
        association_id,
        worker.email,
        worker.user_id,
        worker.patrol_id,
        worker.zone,
        keys["SECRET_KEY"],
        keys["PSEUDONYM_KEY"],
    )


def _child_env(prepared: Prepared) -> dict[str, str]:
    return {
        **os.environ,
        "OUTREACH_ENV": "development",
        "DATABASE_URL": prepared.url,
        "SECRET_KEY": prepared.secret_key,
        "PSEUDONYM_KEY": prepared.pseudonym_key,
        # The same start-up in every child: the difference of two runs is the contacts.
        "PYTHONHASHSEED": "0",
    }


def _child_argv(prepared: Prepared, path: str, count: int, built: int) -> list[str]:
    return [
        str(tp.BIN / "python"),
        __file__,
        "--child",
        path,
        str(count),
        str(built),
        json.dumps(asdict(prepared)),
    ]


def instructions(
    valgrind: str, prepared: Prepared, path: str, count: int, built: int, out: Path
) -> int:
    """Instructions of a whole child run under callgrind (collection from the start)."""
    child_run = subprocess.run(  # noqa: S603 (fixed argv)
        [
            valgrind,
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            *_child_argv(prepared, path, count, built),
        ],
        cwd=tp.ROOT,
        env=_child_env(prepared),
        capture_output=True,
        text=True,
    )
    if child_run.returncode != 0:
        raise RuntimeError(f"{path}, {count} contacts: {child_run.stderr[-2000:]}")
    summary = re.search(r"^(?:summary|totals): (\d+)", out.read_text(), re.MULTILINE)
    assert summary, f"no total in {out}"
    return int(summary.group(1))


def python_calls(prepared: Prepared, path: str, count: int) -> dict[str, Any]:
    answer = subprocess.run(  # noqa: S603 (fixed argv)
        [*_child_argv(prepared, path, count, count), "--calls"],
        cwd=tp.ROOT,
        env=_child_env(prepared),
        check=True,
        capture_output=True,
        text=True,
    )
    counted: dict[str, Any] = json.loads(answer.stdout.strip().splitlines()[-1])
    return counted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--contacts", type=int, default=200, help="contacts counted per path")
    parser.add_argument(
        "--calls-only", action="store_true", help="Python calls only: no valgrind, seconds"
    )
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--calls", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, tp.stop)  # the database and scratch files go away too
    if args.child:
        path, count, built, prepared = args.child
        child(Prepared(**json.loads(prepared)), path, int(count), int(built), args.calls)
        return
    valgrind = shutil.which("valgrind")
    if valgrind is None and not args.calls_only:
        raise SystemExit("valgrind is needed: apt-get install valgrind (or --calls-only)")
    scratch = Path(tempfile.mkdtemp(prefix="bench-instructions-"))
    try:
        prepared = prepare(args.database, scratch)
        calls = {path: python_calls(prepared, path, args.contacts) for path in PATHS}
        per_contact = (
            None
            if valgrind is None or args.calls_only
            else count_instructions(valgrind, prepared, args.contacts, scratch)
        )
    finally:
        tp.drop_database(args.database, PG_DATABASE)
        shutil.rmtree(scratch, ignore_errors=True)
    report(args.database, args.contacts, per_contact, calls)


def count_instructions(
    valgrind: str, prepared: Prepared, contacts: int, scratch: Path
) -> dict[str, float]:
    """Instructions per contact of each path: two runs under callgrind, the difference."""
    big = BASE_CONTACTS + contacts
    runs = [(path, count) for path in PATHS for count in (BASE_CONTACTS, big)]
    # One per core: a count does not depend on how busy the machine is.
    pool = ThreadPoolExecutor(os.cpu_count() or 1)
    try:
        futures = {
            (path, count): pool.submit(
                instructions, valgrind, prepared, path, count, big, scratch / f"{path}-{count}"
            )
            for path, count in runs
        }
        totals = {run: future.result() for run, future in futures.items()}
    finally:
        pool.shutdown(cancel_futures=True)  # on a failure, start no other child
    return {
        path: (totals[(path, big)] - totals[(path, BASE_CONTACTS)]) / contacts for path in PATHS
    }


def report(
    database: str,
    contacts: int,
    per_contact: dict[str, float] | None,
    calls: dict[str, dict[str, Any]],
) -> None:
    names = {"floor": "floor (bare WSGI insert)", "api": "API, 1 contact", "form": "HTML form POST"}
    print(
        f"\n{database}: {contacts} contacts counted per path, one at a time, in process "
        "(no HTTP)"
        + ("" if per_contact is None else "; instructions: valgrind --tool=callgrind")
        + "\n"
    )
    print("| path | instructions per contact | floor / path | Python calls per contact |")
    print("| --- | ---: | ---: | ---: |")
    for path in PATHS:
        counted = (
            "not counted | —"
            if per_contact is None
            else f"{per_contact[path] / 1e6:.2f} M | {per_contact['floor'] / per_contact[path]:.2f}"
        )
        print(f"| {names[path]} | {counted} | {calls[path]['calls']:.0f} |")
    print("\nPython calls per contact within each part of the request, what it calls included:\n")
    print("| part | " + " | ".join(names[path] for path in PATHS[1:]) + " |")
    print("| --- |" + " ---: |" * len(PATHS[1:]))
    for part in PARTS:
        print(
            f"| {part} | "
            + " | ".join(f"{calls[path]['parts'][part]:.0f}" for path in PATHS[1:])
            + " |"
        )


if __name__ == "__main__":
    main()
