"""Capture throughput: simulated workers posting contacts to the app under gunicorn, and a floor.

For each database (a SQLite file in a temporary folder, and/or the PostgreSQL database
`bench_throughput`), migrates a fresh one with `flask --app wsgi db upgrade`, seeds a demo
history and N workers (16 by default), each with an open patrol, then serves with the
project's gunicorn.conf.py both the app and `floor_app.py`, a bare WSGI app that inserts
the same rows with the same driver. N threads, one per simulated worker (each logged in
with its own session), post contacts concurrently: through the API (one per request, as
the phone's outbox does when online, and in batches), through the HTML form (the POST
alone, and the POST followed by the page it redirects to, as a browser does) and to the
floor, before and after each app path: each is judged against the mean of the two floors
around it. Each round measures every path after a warm-up and checks in the database that
every contact sent was stored once, with its needs, materials and referrals. Prints a
markdown table: contacts/s, latency percentiles, app / floor, gunicorn CPU per contact.
See bench/README.md.

    .venv/bin/python bench/throughput.py --database both --contacts 2000 --rounds 2
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import random
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config import Settings
from outreach import create_app
from outreach.auth.services import create_user
from outreach.capture.forms import REFERRAL_SLOTS
from outreach.capture.services import start_patrol
from outreach.clock import PARIS
from outreach.demo.seed import (
    AGE_WEIGHTS,
    DESTINATION_WEIGHTS,
    GENDER_WEIGHTS,
    HOUSING_WEIGHTS,
    MATERIAL_RANGES,
    MATERIAL_WEIGHTS,
    NEED_WEIGHTS,
    ensure_reference_data,
)
from outreach.extensions import db
from outreach.models import Contact, ContactMaterial, ContactNeed, Referral, ReferralStatusChange

PASSWORD = "throughput bench night 2026"  # noqa: S105 (throwaway database)
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_DATABASE = "bench_throughput"
BIN = ROOT / ".venv" / "bin"
TIMEOUT = 30
TARGET_RATIO = 0.6
TARGET_P95_MS = 50.0
# CPU a started server may use in half a second and still count as idle.
IDLE_CPU_SECONDS = 0.05
# Set on SIGTERM: the simulated workers stop, then the servers and the database go away.
STOP = threading.Event()
LETTERS = "ABCDEFGHIJKLMNOPRSTVYZ"

Body = dict[str, Any]


# -- databases and servers ---------------------------------------------------------------


def fresh_database(kind: str, workdir: Path, name: str = PG_DATABASE) -> str:
    """An empty database: a SQLite file in `workdir`, or PostgreSQL database `name`."""
    if kind == "sqlite":
        return f"sqlite:///{workdir / f'{name}.sqlite3'}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(False)


def drop_database(kind: str, name: str = PG_DATABASE) -> None:
    if kind == "postgresql":
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@dataclass(frozen=True, slots=True)
class Worker:
    email: str
    user_id: int
    patrol_id: int
    zone: str


def prepare(env: dict[str, str], workers: int, history: int) -> tuple[int, list[Worker]]:
    """Migrate and seed as an operator would, then add the workers and their open patrols."""
    flask = [str(BIN / "flask"), "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True)  # noqa: S603
    if history:
        subprocess.run(  # noqa: S603 (fixed argv)
            [*flask, "outreach", "seed-demo", "--contacts", str(history), "--password", PASSWORD],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    settings = replace(Settings(), database_url=env["DATABASE_URL"])
    app = create_app(settings)
    with app.app_context():
        associations, zones = ensure_reference_data(db.session)
        demo = associations["demo"]
        zone_list = sorted(zones.values(), key=lambda zone: zone.position)
        seeded = []
        for index in range(workers):
            user = create_user(
                db.session,
                settings,
                email=f"bench{index:02d}@demo.test",
                role="worker",
                password=PASSWORD,
                display_name=f"Bench {index:02d}",
                association=demo,
            )
            zone = zone_list[index % len(zone_list)]
            patrol = start_patrol(
                db.session, demo, zone, user, [], datetime.now(UTC) - timedelta(hours=1)
            )
            seeded.append(Worker(user.email, user.id, patrol.id, zone.code))
        db.session.commit()
        association_id = demo.id
        db.session.remove()
        db.engine.dispose()
    return association_id, seeded


def server_env(url: str) -> dict[str, str]:
    """The servers' environment: throwaway keys, and development, since production
    refuses SQLite."""
    return {
        **os.environ,
        "OUTREACH_ENV": "development",
        "DATABASE_URL": url,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "PSEUDONYM_KEY": secrets.token_urlsafe(48),
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True, slots=True)
class Server:
    base: str
    pid: int


@contextmanager
def gunicorn(app_spec: str, env: dict[str, str], log: Path, *extra: str) -> Iterator[Server]:
    """`gunicorn -c gunicorn.conf.py APP` on a free port; its logs (access log too) to `log`."""
    port = free_port()
    with log.open("ab") as output:
        process = subprocess.Popen(  # noqa: S603 (fixed argv)
            [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", *extra, app_spec],
            cwd=ROOT,
            env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}"},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{base}/healthz", timeout=5)  # any answer: a worker is up
                break
            except requests.RequestException:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{app_spec} did not start: see {log}") from None
                time.sleep(0.2)
        wait_until_idle(process, app_spec, log)
        yield Server(base, process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)


def wait_until_idle(process: subprocess.Popen[bytes], app_spec: str, log: Path) -> None:
    """Until the server's processes have been quiet for a second: the first answer comes
    from the first worker up, the others may still be importing the app (about 1.3 s of
    CPU each), and a round that starts then measures a server that is starting (the first
    floor of a small run came out at a third of the next one)."""
    deadline = time.monotonic() + 60
    previous, quiet = tree_cpu_seconds(process.pid), 0
    while quiet < 2:
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{app_spec} did not settle after starting: see {log}")
        time.sleep(0.5)
        current = tree_cpu_seconds(process.pid)
        quiet = quiet + 1 if current - previous < IDLE_CPU_SECONDS else 0
        previous = current


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a gunicorn master and its workers, recycled (reaped) workers included."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # Fields after the name: state ppid ... utime(11) stime(12) cutime(13) cstime(14).
        if int(stat.parent.name) == pid:
            ticks += sum(int(value) for value in fields[11:15])
        elif int(fields[1]) == pid:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


# -- simulated workers ---------------------------------------------------------------------


class KeepCookies(http.cookiejar.DefaultCookiePolicy):
    """A client that keeps the cookie it logged in with (the form path without redirects)."""

    def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False


@dataclass(slots=True)
class Client:
    worker: Worker
    browser: requests.Session  # cookies updated, redirects followed: a browser
    frozen: requests.Session  # the login cookie only, whatever the answers set
    floor: requests.Session
    token: str
    form_id: str  # the id the form page carried: the first form post uses it
    material_fields: list[str]


def hidden_field(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]+)"', page)
    assert match, f"no {name} in the page"
    return match.group(1)


def page_csrf_token(page: str) -> str:
    """The CSRF token every page carries in its head (base.html), the login page's too."""
    match = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert match, "no CSRF token in the page"
    return match.group(1)


def logged_in(base: str, worker: Worker) -> requests.Session:
    """A browser session logged in as the worker: the login form, its CSRF token, a password."""
    browser = requests.Session()
    token = page_csrf_token(browser.get(f"{base}/login", timeout=TIMEOUT).text)
    response = browser.post(
        f"{base}/login",
        data={"email": worker.email, "password": PASSWORD, "csrf_token": token},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert response.status_code == 302, response.status_code
    return browser


def log_in(base: str, worker: Worker) -> Client:
    browser = logged_in(base, worker)
    form = browser.get(f"{base}/patrols/{worker.patrol_id}/contacts/new", timeout=TIMEOUT)
    form.raise_for_status()
    frozen = requests.Session()
    frozen.cookies = requests.cookies.RequestsCookieJar(policy=KeepCookies())
    frozen.cookies.update(browser.cookies)
    return Client(
        worker=worker,
        browser=browser,
        frozen=frozen,
        floor=requests.Session(),
        token=hidden_field(form.text, "csrf_token"),
        form_id=hidden_field(form.text, "id"),
        material_fields=re.findall(r'name="(material-[a-z0-9_]+)"', form.text),
    )


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def contact_body(rng: random.Random, worker: Worker) -> Body:
    """A contact as a phone sends it: a need or two, material, sometimes a referral or a code."""
    materials: dict[str, int] = {}
    for _ in range(rng.choice((1, 1, 2, 3))):
        code = _pick(rng, MATERIAL_WEIGHTS)
        materials[code] = rng.randint(*MATERIAL_RANGES[code])
    destinations = {_pick(rng, DESTINATION_WEIGHTS) for _ in range(rng.choice((1, 1, 2)))}
    occurred = datetime.now(UTC) - timedelta(minutes=rng.randint(1, 50))
    return {
        "id": str(uuid.uuid4()),
        "occurred_at": occurred.replace(second=0, microsecond=0).isoformat(),
        "zone": worker.zone,
        "patrol_id": worker.patrol_id,
        "person_code": (
            f"{rng.choice(LETTERS)}{rng.choice(LETTERS)} {rng.randint(1960, 2004)}"
            if rng.random() < 0.6
            else None
        ),
        "gender": _pick(rng, GENDER_WEIGHTS),
        "age_band": _pick(rng, AGE_WEIGHTS),
        "housing": _pick(rng, HOUSING_WEIGHTS),
        "first_contact": rng.random() < 0.15,
        "needs": sorted({_pick(rng, NEED_WEIGHTS) for _ in range(rng.choice((1, 1, 2)))}),
        "materials": materials,
        "referrals": [
            {"destination": destination, "accompanied": rng.random() < 0.3}
            for destination in sorted(destinations)
        ]
        if rng.random() < 0.25
        else [],
    }


def form_fields(token: str, material_fields: list[str], body: Body) -> list[tuple[str, str]]:
    """The fields a browser submits for this contact: every input of the form."""
    local = datetime.fromisoformat(body["occurred_at"]).astimezone(PARIS)
    fields = [
        ("csrf_token", token),
        ("id", body["id"]),
        ("zone", body["zone"]),
        ("occurred_at", local.strftime("%Y-%m-%dT%H:%M")),
        ("person_code", body["person_code"] or ""),
        ("gender", body["gender"]),
        ("age_band", body["age_band"]),
        ("housing", body["housing"]),
        *(("needs", code) for code in body["needs"]),
        *(
            (name, str(body["materials"].get(name.removeprefix("material-"), 0)))
            for name in material_fields
        ),
    ]
    if body["first_contact"]:
        fields.append(("first_contact", "1"))
    for slot in range(REFERRAL_SLOTS):
        referral = body["referrals"][slot] if slot < len(body["referrals"]) else None
        fields.append((f"referral-{slot}-destination", referral["destination"] if referral else ""))
        if referral and referral["accompanied"]:
            fields.append((f"referral-{slot}-accompanied", "1"))
    return fields


# -- paths ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Route:
    name: str
    batch: int  # contacts per request
    send: Callable[[Client, list[Body]], str | None]  # why the answer is wrong; None: right
    is_floor: bool = False


def routes(app: str, floor: str, association_id: int, batch: int) -> list[Route]:
    def to_floor(client: Client, bodies: list[Body]) -> str | None:
        response = client.floor.post(
            f"{floor}/contacts?author={client.worker.user_id}&association={association_id}",
            data=json.dumps(bodies[0]),
            headers={"Content-Type": "application/json"},
            timeout=TIMEOUT,
        )
        return None if response.status_code == 201 else f"HTTP {response.status_code}"

    def to_api(client: Client, bodies: list[Body]) -> str | None:
        response = client.browser.post(
            f"{app}/api/v1/contacts",
            json=bodies[0],
            headers={"X-CSRFToken": client.token},
            timeout=TIMEOUT,
        )
        if response.status_code != 201:
            return f"HTTP {response.status_code}"
        return None if response.json()["status"] == "created" else response.json()["status"]

    def to_api_batch(client: Client, bodies: list[Body]) -> str | None:
        response = client.browser.post(
            f"{app}/api/v1/contacts",
            json=bodies,
            headers={"X-CSRFToken": client.token},
            timeout=TIMEOUT,
        )
        if response.status_code != 200:
            return f"HTTP {response.status_code}"
        statuses = {result["status"] for result in response.json()["results"]}
        return None if statuses == {"created"} else "/".join(sorted(statuses))

    def post_form(session: requests.Session, client: Client, body: Body) -> requests.Response:
        if client.form_id:  # the first post carries the id the form page came with
            body["id"], client.form_id = client.form_id, ""
        return session.post(
            f"{app}/patrols/{client.worker.patrol_id}/contacts/new",
            data=form_fields(client.token, client.material_fields, body),
            allow_redirects=False,
            timeout=TIMEOUT,
        )

    def not_saved(response: requests.Response) -> str | None:
        if response.status_code != 302:
            return f"HTTP {response.status_code}"
        return None if "saved=" in response.headers.get("Location", "") else "not saved"

    def to_form(client: Client, bodies: list[Body]) -> str | None:
        return not_saved(post_form(client.frozen, client, bodies[0]))

    def to_form_and_page(client: Client, bodies: list[Body]) -> str | None:
        saved = post_form(client.browser, client, bodies[0])
        if (error := not_saved(saved)) is not None:
            return error
        location = saved.headers["Location"]
        target = f"{app}{location}" if location.startswith("/") else location
        page = client.browser.get(target, timeout=TIMEOUT)
        if page.status_code != 200:
            return f"page: HTTP {page.status_code}"
        return None if "Contact enregistré" in page.text else "page: no confirmation"

    floor_path = Route("floor (bare WSGI insert)", 1, to_floor, is_floor=True)
    app_paths = [
        Route("API, 1 contact a request", 1, to_api),
        Route(f"API, batches of {batch}", batch, to_api_batch),
        Route("HTML form POST", 1, to_form),
        Route("HTML form POST + page after save", 1, to_form_and_page),
    ]
    # The floor before and after every app path: each app path is judged against the mean
    # of the two floors around it, measured within seconds of it (the machine's speed
    # drifts by a third within a minute).
    return [floor_path] + [step for path in app_paths for step in (path, floor_path)]


# -- measuring -----------------------------------------------------------------------------


@dataclass(slots=True)
class Measure:
    path: Route
    contacts: int
    seconds: float
    latencies: list[float]
    errors: Counter[str]  # how many requests failed, by why
    server_cpu: float
    client_cpu: float
    load: float  # the machine's 1-minute load average when the path finished
    rows: str = ""
    ratio: float = field(default=float("nan"))

    @property
    def rate(self) -> float:
        return self.contacts / self.seconds

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] * 1000


def chunks(bodies: list[Body], size: int) -> list[list[Body]]:
    return [bodies[start : start + size] for start in range(0, len(bodies), size)]


def measure(
    path: Route,
    server: Server,
    clients: list[Client],
    warm: list[list[Body]],
    timed: list[list[Body]],
    think: float,
) -> Measure:
    """Every client sends its warm-up, then all start together on the timed part, each
    waiting on average `think` seconds between its requests (0: one request after another)."""
    barrier = threading.Barrier(len(clients) + 1)

    def work(
        client: Client, warm_part: list[Body], timed_part: list[Body]
    ) -> tuple[list[float], Counter[str]]:
        errors: Counter[str] = Counter()
        for request in chunks(warm_part, path.batch):
            if STOP.is_set():
                break
            if (error := safe_send(path, client, request)) is not None:
                errors[error] += 1
        barrier.wait()
        if think:  # workers do not all press "save" at the same instant
            time.sleep(random.uniform(0, think))
        latencies = []
        for request in chunks(timed_part, path.batch):
            if STOP.is_set():
                break
            started = time.perf_counter()
            error = safe_send(path, client, request)
            latencies.append(time.perf_counter() - started)
            if error is not None:
                errors[error] += 1
            if think:
                time.sleep(random.uniform(0.5, 1.5) * think)
        return latencies, errors

    with ThreadPoolExecutor(len(clients)) as pool:
        futures = [
            pool.submit(work, client, warm_part, timed_part)
            for client, warm_part, timed_part in zip(clients, warm, timed, strict=True)
        ]
        try:
            barrier.wait()
        except BaseException:
            barrier.abort()  # the workers still warming up stop too
            raise
        server_cpu, client_cpu = tree_cpu_seconds(server.pid), time.process_time()
        started = time.perf_counter()
        results = [future.result() for future in futures]
        seconds = time.perf_counter() - started
        server_cpu = tree_cpu_seconds(server.pid) - server_cpu
        client_cpu = time.process_time() - client_cpu
    latencies = [latency for part, _ in results for latency in part]
    return Measure(
        path=path,
        contacts=sum(len(part) for part in timed),
        seconds=seconds,
        latencies=latencies,
        errors=sum((errors for _, errors in results), Counter()),
        server_cpu=server_cpu,
        client_cpu=client_cpu,
        load=os.getloadavg()[0],
    )


def safe_send(path: Route, client: Client, bodies: list[Body]) -> str | None:
    """Why the request failed (an HTTP status, an exception's class), or None."""
    try:
        return path.send(client, bodies)
    except (requests.RequestException, ValueError, KeyError) as error:
        return f"{type(error).__name__}: {error}"[:160]


def stored_since(url: str, last_id: int) -> dict[str, int]:
    engine = create_engine(url)
    new = Contact.id > last_id
    with engine.connect() as connection:
        counts = {
            "contacts": connection.scalar(select(func.count()).where(new)),
            "distinct ids": connection.scalar(
                select(func.count(Contact.client_id.distinct())).where(new)
            ),
            "needs": connection.scalar(
                select(func.count())
                .select_from(ContactNeed)
                .where(ContactNeed.contact_id > last_id)
            ),
            "materials": connection.scalar(
                select(func.count())
                .select_from(ContactMaterial)
                .where(ContactMaterial.contact_id > last_id)
            ),
            "referrals": connection.scalar(
                select(func.count()).select_from(Referral).where(Referral.contact_id > last_id)
            ),
            "history": connection.scalar(
                select(func.count())
                .select_from(ReferralStatusChange)
                .join(Referral)
                .where(Referral.contact_id > last_id)
            ),
        }
    engine.dispose()
    return {name: int(value or 0) for name, value in counts.items()}


def last_contact_id(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as connection:
        last = connection.scalar(select(func.max(Contact.id)))
    engine.dispose()
    return int(last or 0)


def expected_rows(bodies: Sequence[Body]) -> dict[str, int]:
    referrals = sum(len(body["referrals"]) for body in bodies)
    return {
        "contacts": len(bodies),
        "distinct ids": len({body["id"] for body in bodies}),
        "needs": sum(len(body["needs"]) for body in bodies),
        "materials": sum(len(body["materials"]) for body in bodies),
        "referrals": referrals,
        "history": referrals,
    }


# -- one database --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Plan:
    workers: int
    contacts: int
    warmup: int
    rounds: int
    batch: int
    history: int
    think: float


def run(kind: str, plan: Plan, keep_logs: Path | None) -> list[tuple[int, Measure]]:
    rows: list[tuple[int, Measure]] = []
    with tempfile.TemporaryDirectory() as scratch:
        workdir = keep_logs or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        url = fresh_database(kind, Path(scratch))
        env = server_env(url)
        try:
            association_id, workers = prepare(env, plan.workers, plan.history)
            with (
                gunicorn("wsgi:app", env, workdir / f"{kind}-app.log") as app,
                gunicorn(
                    "floor_app:app",
                    env,
                    workdir / f"{kind}-floor.log",
                    "--pythonpath",
                    str(ROOT / "bench"),
                ) as floor,
            ):
                clients = [log_in(app.base, worker) for worker in workers]
                rng = random.Random(2026)  # synthetic data
                for round_ in range(1, plan.rounds + 1):
                    floor_before: Measure | None = None
                    waiting: Measure | None = None  # an app path, until the floor after it
                    for path in routes(app.base, floor.base, association_id, plan.batch):
                        server = floor if path.is_floor else app
                        per_client = [
                            (
                                [contact_body(rng, c.worker) for _ in range(plan.warmup)],
                                [contact_body(rng, c.worker) for _ in range(plan.contacts)],
                            )
                            for c in clients
                        ]
                        since = last_contact_id(url)
                        result = measure(
                            path,
                            server,
                            clients,
                            [warm for warm, _ in per_client],
                            [timed for _, timed in per_client],
                            plan.think,
                        )
                        sent = [body for warm, timed in per_client for body in warm + timed]
                        stored, wanted = stored_since(url, since), expected_rows(sent)
                        result.rows = (
                            f"ok ({stored['contacts']})"
                            if stored == wanted
                            else f"MISMATCH stored {stored} sent {wanted}"
                        )
                        if not path.is_floor:
                            assert floor_before is not None and waiting is None, "unbracketed"
                            waiting = result
                            continue
                        result.ratio = 1.0
                        if waiting is not None and floor_before is not None:
                            floors = (floor_before.rate, result.rate)
                            waiting.ratio = waiting.rate / statistics.mean(floors)
                            rows.append((round_, waiting))
                            print(f"[{kind}] round {round_}: {line(kind, round_, waiting)}")
                        rows.append((round_, result))
                        print(f"[{kind}] round {round_}: {line(kind, round_, result)}", flush=True)
                        floor_before, waiting = result, None
        finally:
            drop_database(kind)
    return rows


# -- report --------------------------------------------------------------------------------

HEADER = (
    "| database | round | path | contacts/s | p50 ms | p95 ms | p99 ms | app / floor "
    "| gunicorn CPU ms/contact | client CPU | load | errors | rows stored |"
)


def line(kind: str, round_: int, m: Measure) -> str:
    return (
        f"| {kind} | {round_} | {m.path.name} | {m.rate:.0f} | {m.percentile(0.5):.1f} "
        f"| {m.percentile(0.95):.1f} | {m.percentile(0.99):.1f} | {m.ratio:.2f} "
        f"| {m.server_cpu * 1000 / m.contacts:.1f} | {m.client_cpu / m.seconds:.0%} "
        f"| {m.load:.1f} "
        f"| {_errors(m.errors)} | {m.rows} |"
    )


def _errors(errors: Counter[str]) -> str:
    """The number of failed requests, then why: "2 (HTTP 500: 1, ConnectionError: ...: 1)"."""
    if not errors:
        return "0"
    reasons = ", ".join(f"{reason}: {count}" for reason, count in errors.most_common())
    return f"{errors.total()} ({reasons})"


def verdicts(kind: str, rows: list[tuple[int, Measure]], paced: bool) -> Iterator[str]:
    floors = [m for _, m in rows if m.path.is_floor]
    for name in ("API, 1 contact a request", "HTML form POST"):
        ours = [m for _, m in rows if m.path.name == name]
        # A path that failed requests or lost rows may look fast: no verdict on it.
        broken = [m for m in ours + floors if m.errors or not m.rows.startswith("ok")]
        if broken:
            yield (
                f"- {kind}, {name}: NO VERDICT, {len(broken)} measures (this path's or the "
                "floor's) had failed requests or rows unlike what was sent (see the table)"
            )
            continue
        ratio = statistics.median(m.ratio for m in ours)
        p95 = statistics.median(m.percentile(0.95) for m in ours)
        throughput = (
            "not judged: the think time sets the pace"
            if paced
            else f"target ≥ {TARGET_RATIO}: {'met' if ratio >= TARGET_RATIO else 'MISSED'}"
        )
        yield (
            f"- {kind}, {name}: app / floor {ratio:.2f} ({throughput}), p95 {p95:.1f} ms "
            f"(target < {TARGET_P95_MS:.0f} ms: {'met' if p95 < TARGET_P95_MS else 'MISSED'}); "
            "medians over rounds"
        )


def stop(_signal: int, _frame: object) -> None:
    STOP.set()
    raise SystemExit("stopped")


def main() -> None:
    signal.signal(signal.SIGTERM, stop)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--workers", type=int, default=16, help="simulated workers (threads)")
    parser.add_argument(
        "--contacts", type=int, default=2000, help="timed contacts per path and round"
    )
    parser.add_argument("--warmup", type=int, default=10, help="contacts per worker, untimed")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch", type=int, default=20, help="contacts per API batch")
    parser.add_argument(
        "--history", type=int, default=3000, help="demo contacts seeded before (seed-demo)"
    )
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="mean seconds each worker waits between requests (default 0: closed loop)",
    )
    parser.add_argument("--logs", type=Path, default=None, help="keep gunicorn logs here")
    args = parser.parse_args()
    per_worker = max(1, args.contacts // args.workers)
    plan = Plan(
        args.workers, per_worker, args.warmup, args.rounds, args.batch, args.history, args.think
    )
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    results = {kind: run(kind, plan, args.logs) for kind in kinds}
    # What gunicorn.conf.py computes.
    gunicorn_workers = os.environ.get("GUNICORN_WORKERS", str((os.cpu_count() or 1) * 2 + 1))
    print(
        f"\n{args.workers} simulated workers, {per_worker * args.workers} timed contacts per "
        f"path and round after {args.warmup} each untimed, "
        + (f"think time {args.think} s (± 50 %)" if args.think else "no think time")
        + "; gunicorn -c gunicorn.conf.py "
        f"(gthread, {gunicorn_workers} workers); {os.cpu_count()} cores; "
        f"{datetime.now(UTC):%Y-%m-%d}\n"
    )
    print(HEADER)
    print("| --- | ---: | --- | " + "---: | " * 9 + "--- |")
    for kind, rows in results.items():
        for round_, result in rows:
            print(line(kind, round_, result))
    print()
    for kind, rows in results.items():
        for verdict in verdicts(kind, rows, paced=args.think > 0):
            print(verdict)


if __name__ == "__main__":
    main()
