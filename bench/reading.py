"""Reading benchmarks: supervisor dashboard, funders' summary and weekly export at scale.

Loads N synthetic contacts in bulk (Core executemany, the roll-up triggers on) into a fresh
SQLite file and/or a fresh PostgreSQL database (`--name`, default `bench`), refreshes the
weekly roll-up, then
times, in the same run, each app path against a bare-SQL baseline that yields the same
numbers (GROUP BY over the raw rows; a bare cursor written with csv.writer), and prints a
table with ratios and peak memory. See bench/README.md.

    .venv/bin/python bench/reading.py --contacts 1000000 --database both
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import random
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask_login import login_user
from flask_migrate import upgrade
from sqlalchemy import create_engine, func, insert, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config import Settings
from outreach import create_app
from outreach.clock import PARIS, is_night, iso_week_of, now_utc
from outreach.demo.seed import (
    DESTINATION_WEIGHTS,
    MATERIAL_RANGES,
    MATERIAL_WEIGHTS,
    NEED_WEIGHTS,
    ensure_reference_data,
)
from outreach.extensions import db
from outreach.models import (
    Association,
    Contact,
    ContactMaterial,
    ContactNeed,
    Patrol,
    Referral,
    User,
    Zone,
)
from outreach.pseudonyms import normalise_code, pseudonymise
from outreach.reports.cellkey import PTable
from outreach.reports.csv_export import (
    contacts_header,
    counted,
    csv_lines,
    utc_offset,
    weekly_export,
)
from outreach.reports.periods import (
    last_complete_week,
    plan_period,
    shift_week,
    week_period,
    week_start_utc,
)
from outreach.reports.rollup import refresh
from outreach.reports.services import dashboard, funders_summary, load_registry

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
PSEUDONYM_KEY = "bench-pseudonym-key-0123456789abcdef0123456789"
EXTRA_ASSOCIATIONS = (("bench-3", "Association 3"), ("bench-4", "Association 4"))
CHUNK = 20_000
SUPERVISOR = "supervisor@bench.test"
FUNDER = "funder@bench.test"
NO_LOGIN = "-"


@dataclass(frozen=True)
class Plan:
    contacts: int
    weeks: int
    people: int
    export_week_contacts: int
    seed: int


def database_url(kind: str, workdir: Path, name: str, reuse: bool) -> str:
    """A fresh database, or (reuse) the one a previous run loaded under that name."""
    if kind == "sqlite":
        path = workdir / f"{name}.sqlite3"
        if not reuse:
            path.unlink(missing_ok=True)
        return f"sqlite:///{path}"
    if not reuse:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    return PG_URL.format(name=name)


def weighted(rng: random.Random, weights: dict[str, int], k: int) -> list[str]:
    return rng.choices(list(weights), weights=list(weights.values()), k=k)


class Loader:
    """Synthetic but plausible activity: a few thousand people met again and again."""

    def __init__(self, plan: Plan, now: datetime) -> None:
        self.plan = plan
        self.rng = random.Random(plan.seed)
        self.last_week = last_complete_week(now)
        self.first_week = shift_week(self.last_week, 1 - plan.weeks)
        self.next_id = {"contacts": 1, "patrols": 1, "referrals": 1}

    def load(self) -> dict[str, float]:
        session = db.session
        associations, zones = ensure_reference_data(session)
        for slug, name in EXTRA_ASSOCIATIONS:
            associations[slug] = Association(slug=slug, name=name)
            session.add(associations[slug])
        session.flush()
        authors = {}
        for slug, association in associations.items():
            user = User(
                email=f"bench@{slug}.test",
                display_name="Bench",
                password_hash=NO_LOGIN,
                role="worker",
                association_id=association.id,
            )
            session.add(user)
            authors[slug] = user
        session.commit()
        codes = [f"P{n:05d} {1960 + n % 45}" for n in range(self.plan.people)]
        pseudonyms = {
            slug: [pseudonymise(PSEUDONYM_KEY, slug, normalise_code(code)) for code in codes]
            for slug in associations
        }
        shares = {"demo": 0.45, "other": 0.25, "bench-3": 0.2, "bench-4": 0.1}
        zone_list = sorted(zones.values(), key=lambda zone: zone.position)
        started = time.perf_counter()
        remaining = self.plan.contacts - self.plan.export_week_contacts
        for slug, share in shares.items():
            count = round(remaining * share)
            if slug == "demo":
                self._contacts(
                    associations[slug],
                    authors[slug],
                    zone_list,
                    pseudonyms[slug],
                    self.plan.export_week_contacts,
                    [self.last_week],
                )
            weeks = [shift_week(self.first_week, n) for n in range(self.plan.weeks)]
            self._contacts(
                associations[slug], authors[slug], zone_list, pseudonyms[slug], count, weeks
            )
        loaded = time.perf_counter() - started
        started = time.perf_counter()
        weeks = refresh(session)
        session.commit()
        return {"load_s": loaded, "refresh_s": time.perf_counter() - started, "weeks": len(weeks)}

    def _contacts(
        self,
        association: Association,
        author: User,
        zones: list[Zone],
        pseudonyms: list[Any],
        count: int,
        weeks: list[str],
    ) -> None:
        rng = self.rng
        people = len(pseudonyms)
        # Each association meets mostly its own part of the population, some people shared.
        offset = rng.randrange(people)
        patrols: list[dict[str, Any]] = []
        contacts: list[dict[str, Any]] = []
        needs: list[dict[str, Any]] = []
        materials: list[dict[str, Any]] = []
        referrals: list[dict[str, Any]] = []
        made = 0
        while made < count:
            week = rng.choice(weeks)
            day = week_start_utc(week).astimezone(PARIS) + timedelta(days=rng.randrange(7))
            start = day.replace(hour=rng.choice((9, 14, 18, 21, 23)), minute=0)
            end = start + timedelta(minutes=rng.randint(120, 240))
            zone = rng.choice(zones[:6] if rng.random() < 0.8 else zones)
            patrol_id = self.next_id["patrols"]
            self.next_id["patrols"] += 1
            patrols.append(
                {
                    "id": patrol_id,
                    "association_id": association.id,
                    "zone_id": zone.id,
                    "started_by_id": author.id,
                    "started_at": start,
                    "ended_at": end,
                }
            )
            for _ in range(min(count - made, rng.randint(6, 22))):
                contact_id = self.next_id["contacts"]
                self.next_id["contacts"] += 1
                when = (start + (end - start) * rng.random()).replace(second=0, microsecond=0)
                person = None
                if rng.random() < 0.65:
                    person = pseudonyms[(offset + int(rng.paretovariate(1.2) * 40)) % people]
                contacts.append(
                    {
                        "id": contact_id,
                        "client_id": uuid.UUID(int=rng.getrandbits(128), version=4),
                        "association_id": association.id,
                        "patrol_id": patrol_id,
                        "author_id": author.id,
                        "occurred_at": when,
                        "iso_week": iso_week_of(when),
                        "night": is_night(when),
                        "zone_id": zone.id,
                        "pseudonym_association": person.association if person else None,
                        "pseudonym_region": person.region if person else None,
                        "gender": rng.choice(("male", "male", "male", "female", "unknown")),
                        "age_band": "unknown",
                        "housing": "street",
                        "first_contact": person is None and rng.random() < 0.1,
                        "body_digest": "0" * 64,
                        "created_at": when,
                        "updated_at": when,
                    }
                )
                for need in set(weighted(rng, NEED_WEIGHTS, rng.choice((0, 1, 1, 2)))):
                    needs.append({"contact_id": contact_id, "need_code": need})
                for material in set(weighted(rng, MATERIAL_WEIGHTS, rng.choice((0, 1, 2)))):
                    quantity = rng.randint(*MATERIAL_RANGES[material])
                    materials.append(
                        {"contact_id": contact_id, "material_code": material, "quantity": quantity}
                    )
                if rng.random() < 0.25:
                    referrals.append(
                        {
                            "id": self.next_id["referrals"],
                            "contact_id": contact_id,
                            "destination_code": weighted(rng, DESTINATION_WEIGHTS, 1)[0],
                            "accompanied": rng.random() < 0.3,
                            "status": rng.choice(
                                ("proposed", "accepted", "attended", "not_attended")
                            ),
                            "status_changed_at": when,
                        }
                    )
                    self.next_id["referrals"] += 1
                made += 1
            if len(contacts) >= CHUNK:
                self._flush(patrols, contacts, needs, materials, referrals)
        self._flush(patrols, contacts, needs, materials, referrals)

    @staticmethod
    def _flush(*batches: list[dict[str, Any]]) -> None:
        tables = (Patrol, Contact, ContactNeed, ContactMaterial, Referral)
        for model, rows in zip(tables, batches, strict=True):
            if rows:
                db.session.execute(insert(model.__table__), rows)
                rows.clear()
        db.session.commit()


# --- the bare-SQL baselines -------------------------------------------------------------


def bare_dashboard(association_id: int, week: str) -> dict[str, Any]:
    """The same figures as the dashboard, straight from the raw rows."""
    first = shift_week(week, -11)
    connection = db.session.connection()
    params = {"a": association_id, "first": first, "week": week}
    trend = connection.execute(
        text(
            "SELECT iso_week, COUNT(*), COUNT(DISTINCT pseudonym_association),"
            " SUM(CASE WHEN pseudonym_region IS NULL THEN 1 ELSE 0 END),"
            " SUM(CASE WHEN night THEN 1 ELSE 0 END),"
            " SUM(CASE WHEN gender = 'female' THEN 1 ELSE 0 END),"
            " SUM(CASE WHEN gender <> 'unknown' THEN 1 ELSE 0 END)"
            " FROM contacts WHERE association_id = :a AND iso_week BETWEEN :first AND :week"
            " GROUP BY iso_week"
        ),
        params,
    ).all()
    zones = connection.execute(
        text(
            "SELECT zone_id, COUNT(*), COUNT(DISTINCT pseudonym_association) FROM contacts"
            " WHERE association_id = :a AND iso_week = :week GROUP BY zone_id"
        ),
        params,
    ).all()
    families = [
        connection.execute(
            text(
                f"SELECT c.iso_week, x.{column}, {aggregate} FROM {table} x"  # noqa: S608
                " JOIN contacts c ON c.id = x.contact_id WHERE c.association_id = :a"
                f" AND c.iso_week IN (:week, :previous) GROUP BY c.iso_week, x.{column}"
            ),
            {**params, "previous": shift_week(week, -1)},
        ).all()
        for table, column, aggregate in (
            ("contact_needs", "need_code", "COUNT(*)"),
            ("contact_materials", "material_code", "SUM(x.quantity)"),
            ("referrals", "destination_code", "COUNT(*)"),
        )
    ]
    patrols = connection.execute(
        select(Patrol.started_at, Patrol.ended_at).where(
            Patrol.association_id == association_id,
            Patrol.started_at >= week_start_utc(first),
            Patrol.started_at < week_start_utc(shift_week(week, 1)),
        )
    ).all()
    return {
        "trend": {row[0]: row[1:3] for row in trend},
        "zones": zones,
        "families": families,
        "patrols": len(patrols),
    }


def bare_funders(first: str, last: str) -> dict[str, Any]:
    """The same (unprotected) figures as the funders' summary, straight from the raw rows."""
    connection = db.session.connection()
    params = {"first": first, "last": last}
    where = "iso_week BETWEEN :first AND :last"
    result: dict[str, Any] = {}
    for level, key, person in (
        ("total", "", "pseudonym_region"),
        ("zone", "zone_id", "pseudonym_region"),
        ("association", "association_id", "pseudonym_association"),
    ):
        select_key = f"c.{key}, " if key else ""
        group_by = f" GROUP BY c.{key}" if key else ""
        result[level] = connection.execute(
            text(
                f"SELECT {select_key}COUNT(*), COUNT(DISTINCT c.{person}),"  # noqa: S608
                " SUM(CASE WHEN c.pseudonym_region IS NULL THEN 1 ELSE 0 END),"
                " SUM(CASE WHEN c.night THEN 1 ELSE 0 END)"
                f" FROM contacts c WHERE c.{where}{group_by}"
            ),
            params,
        ).all()
        for table, code, aggregate in (
            ("contact_needs", "need_code", "COUNT(*)"),
            ("contact_materials", "material_code", "SUM(x.quantity)"),
            ("referrals", "destination_code", "COUNT(*)"),
        ):
            result[level, table] = connection.execute(
                text(
                    f"SELECT {select_key}x.{code}, {aggregate} FROM {table} x"  # noqa: S608
                    f" JOIN contacts c ON c.id = x.contact_id WHERE c.{where}"
                    f" GROUP BY {select_key}x.{code}"
                ),
                params,
            ).all()
    result["patrols"] = connection.execute(
        text(
            "SELECT association_id, zone_id, COUNT(*) FROM patrols"
            " WHERE started_at >= :start AND started_at < :end GROUP BY 1, 2"
        ),
        {
            "start": week_start_utc(first).replace(tzinfo=None),
            "end": week_start_utc(shift_week(last, 1)).replace(tzinfo=None),
        },
    ).all()
    return result


def bare_export(association_id: int, week: str, header: list[str], sink: io.TextIOBase) -> int:
    """A bare DB-API cursor and csv.writer writing the very same file as the app (the run
    checks the bytes): same columns, Paris dates, one 0/1 or count column per code."""
    raw = db.session.connection().connection.dbapi_connection
    assert raw is not None
    placeholder = "?" if db.engine.dialect.name == "sqlite" else "%s"
    cursor = raw.cursor()
    cursor.execute("SELECT id, code FROM zones")
    zones = dict(cursor.fetchall())
    children: dict[str, dict[int, list[Any]]] = {}
    blank: dict[str, list[Any]] = {}
    for name, taxonomy, query, empty in (
        ("need", "needs", "SELECT n.contact_id, n.need_code, 1 FROM contact_needs n", 0),
        (
            "material",
            "materials",
            "SELECT m.contact_id, m.material_code, m.quantity FROM contact_materials m",
            0,
        ),
        (
            "referral",
            "referral_destinations",
            "SELECT r.contact_id, r.destination_code, r.status FROM referrals r",
            "",
        ),
    ):
        cursor.execute(f"SELECT code FROM {taxonomy} ORDER BY position, code")  # noqa: S608
        columns = {code: n for n, (code,) in enumerate(cursor.fetchall())}
        blank[name] = [empty] * len(columns)
        cursor.execute(
            f"{query} JOIN contacts c ON c.id = contact_id"
            f" WHERE c.association_id = {placeholder} AND c.iso_week = {placeholder}",
            (association_id, week),
        )
        table: dict[int, list[Any]] = {}
        for contact_id, code, value in cursor:
            table.setdefault(contact_id, list(blank[name]))[columns[code]] = value
        children[name] = table
    cursor.execute(
        "SELECT id, client_id, iso_week, occurred_at, zone_id, patrol_id, pseudonym_association,"  # noqa: S608
        " first_contact, gender, age_band, housing FROM contacts"
        f" WHERE association_id = {placeholder} AND iso_week = {placeholder}"
        " ORDER BY zone_id, id",
        (association_id, week),
    )
    sink.write("\ufeff")
    writer = csv.writer(sink, lineterminator="\r\n")
    writer.writerow(header)
    rows = 0
    for contact_id, client_id, iso_week, occurred_at, zone_id, patrol_id, *rest in cursor:
        pseudonym, first_contact, gender, age_band, housing = rest
        if isinstance(occurred_at, str):
            occurred_at = datetime.fromisoformat(occurred_at)
        local = occurred_at.replace(tzinfo=UTC).astimezone(PARIS)
        if isinstance(client_id, str):  # SQLite keeps 32 hexadecimal digits
            h = client_id
            client_id = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
        referrals = children["referral"].get(contact_id, blank["referral"])
        writer.writerow(
            [
                client_id,
                iso_week,
                f"{local.year:04d}-{local.month:02d}-{local.day:02d}",
                f"{local.hour:02d}:{local.minute:02d}",
                utc_offset(local),
                zones[zone_id],
                "" if patrol_id is None else patrol_id,
                pseudonym or "",
                1 if first_contact else 0,
                gender,
                age_band,
                housing,
                *children["need"].get(contact_id, blank["need"]),
                *children["material"].get(contact_id, blank["material"]),
                len(referrals) - referrals.count(""),
                *referrals,
            ]
        )
        rows += 1
    return rows


# --- measuring ----------------------------------------------------------------------------


def timed(function: Callable[[], Any], rounds: int) -> tuple[float, Any]:
    """Median wall time of `rounds` calls (after one warm-up call), and the last result."""
    return timed_cold(function, rounds)[1:]


PTABLE = PTable(5, 3)  # the default SUPPRESSION_THRESHOLD and PERTURBATION_MAX_NOISE


def timed_cold(function: Callable[[], Any], rounds: int) -> tuple[float, float, Any]:
    """The first call's wall time, the median of `rounds` more, and the last result."""
    started = time.perf_counter()
    result = function()
    cold = time.perf_counter() - started
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return cold, statistics.median(times), result


def peak_memory(function: Callable[[], Any]) -> float:
    """Peak Python allocations (MB) while the function runs."""
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def timed_alternately(
    app: Callable[[], Any], bare: Callable[[], Any], rounds: int
) -> tuple[float, float]:
    """Medians of app and baseline run turn about, so that a busy spell hits both."""
    app(), bare()
    app_times, bare_times = [], []
    for _ in range(rounds):
        for function, times in ((app, app_times), (bare, bare_times)):
            started = time.perf_counter()
            function()
            times.append(time.perf_counter() - started)
    return statistics.median(app_times), statistics.median(bare_times)


class Digest(io.TextIOBase):
    """A sink that keeps only the SHA-256 of what was written."""

    def __init__(self) -> None:
        self.sha = hashlib.sha256()

    def write(self, text: str) -> int:
        self.sha.update(text.encode())
        return len(text)

    def hexdigest(self) -> str:
        return self.sha.hexdigest()


class Devnull(io.TextIOBase):
    def write(self, text: str) -> int:
        return len(text)


def reader_accounts() -> None:
    """The supervisor of `demo` and a funder, whose pages are rendered."""
    demo = db.session.scalar(select(Association).where(Association.slug == "demo"))
    assert demo is not None
    for email, role, association_id in (
        (SUPERVISOR, "supervisor", demo.id),
        (FUNDER, "funder", None),
    ):
        if db.session.scalar(select(User.id).where(User.email == email)) is None:
            db.session.add(
                User(
                    email=email,
                    display_name="Bench",
                    password_hash=NO_LOGIN,
                    role=role,
                    association_id=association_id,
                )
            )
    db.session.commit()


def settle(kind: str) -> None:
    """What a live database does on its own: statistics, and vacuum after the bulk load."""
    if kind == "sqlite":
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))


def render(app: Any, path: str, email: str, endpoint: str, **view_args: str) -> str:
    """The page as the view renders it for that user (services and template, no HTTP)."""
    with app.test_request_context(path):
        user = db.session.scalar(select(User).where(User.email == email))
        login_user(user)
        page = app.view_functions[endpoint](**view_args)
        db.session.commit()
        return str(page)


Row = tuple[str, str, float, float, str]


def bench_app(url: str) -> Any:
    """The app on the bench's database, without the requests' statement timeout: loading and
    rolling up a million contacts, and the bare-SQL baselines, run longer than a request."""
    settings = replace(
        Settings(),
        database_url=url,
        pseudonym_key=PSEUDONYM_KEY,
        secret_key="bench-" * 8,
        database_statement_timeout=0,
    )
    return create_app(settings)


def first_view_in_new_process(url: str, path: str) -> float:
    """A restart: a new process renders the page once (its time, not the imports')."""
    output = subprocess.run(  # noqa: S603 (our own script, fixed arguments)
        [sys.executable, __file__, "--first-view", path, "--url", url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return float(output.split()[-1])


def render_once(url: str, path: str) -> None:
    """--first-view: create the app, render one funders' page, print its wall time."""
    app = bench_app(url)
    started = time.perf_counter()
    with app.app_context():
        render(app, path, FUNDER, "funders.summary")
    print(f"{time.perf_counter() - started:.4f}")


def run(kind: str, plan: Plan, workdir: Path, name: str, rounds: int, reuse: bool) -> list[Row]:
    url = database_url(kind, workdir, name, reuse)
    app = bench_app(url)
    rows: list[Row] = []
    with app.app_context():
        week = last_complete_week(now_utc())
        if not reuse:
            upgrade()
            facts = Loader(plan, now_utc()).load()
            print(
                f"[{kind}] loaded {plan.contacts} contacts in {facts['load_s']:.0f} s, "
                f"roll-up of {facts['weeks']} weeks in {facts['refresh_s']:.1f} s",
                flush=True,
            )
            settle(kind)
        reader_accounts()
        first_week = db.session.scalar(select(func.min(Contact.iso_week)))
        total = db.session.scalar(select(func.count(Contact.id)))
        demo = db.session.scalar(select(Association).where(Association.slug == "demo"))
        assert demo is not None and first_week is not None
        registry = load_registry(db.session)

        dashboard_path = f"/reports/associations/demo?week={week}"

        def dashboard_page() -> str:
            return render(app, dashboard_path, SUPERVISOR, "reports.dashboard", slug="demo")

        app_time, page = timed(dashboard_page, rounds)
        bare_time, bare = timed(lambda: bare_dashboard(demo.id, week), rounds)
        data = dashboard(db.session, demo, week)
        figures = {f.indicator.code: f.value for f in data.headline}
        assert (figures["contacts"], figures["people_distinct"]) == tuple(bare["trend"][week])
        assert "Indicateurs" in page and "<svg" in page
        rows.append(
            (
                kind,
                "supervisor dashboard page (12-week trend)",
                app_time,
                bare_time,
                f"peak {peak_memory(dashboard_page):.1f} MB",
            )
        )

        for label, period in (
            ("funders' summary page, last week", week_period(week)),
            ("funders' summary page, since the plan began", plan_period(first_week, week)),
        ):
            path = f"/summary?period={period.kind}:{period.key}"
            first_view, app_time, _ = timed_cold(
                lambda path=path: render(app, path, FUNDER, "funders.summary"), rounds
            )
            restarted = first_view_in_new_process(url, path)
            memory = peak_memory(lambda path=path: render(app, path, FUNDER, "funders.summary"))
            bare_time, bare = timed(
                lambda p=period: bare_funders(p.first_week, p.last_week), rounds
            )
            summary = funders_summary(db.session, period, PTABLE)
            db.session.commit()
            totals = {row.indicator.code: row.total.value for row in summary.rows}
            contacts, people = bare["total"][0][:2]
            # What the published counts tell a reader of the true ones (cell key method).
            for code, true in (("contacts", contacts), ("people_distinct", people)):
                shown = int(totals[code])
                low = max(PTABLE.threshold, shown - PTABLE.max_noise) if shown else 0
                high = (
                    shown + PTABLE.max_noise if shown else PTABLE.threshold + PTABLE.max_noise - 1
                )
                assert low <= true <= high, (code, totals, true, label)
            notes = (
                f"first view after a restart {restarted * 1000:.0f} ms, first view in this "
                f"process {first_view * 1000:.0f} ms; peak {memory:.1f} MB"
            )
            rows.append((kind, label, app_time, bare_time, notes))

        written: dict[str, int] = {}
        header = contacts_header(registry)

        def app_export(sink: io.TextIOBase) -> None:
            # What the export view and `flask reports export` stream.
            prepared = weekly_export(db.session, demo, week, "contacts", registry)
            streamed = counted(prepared.rows, lambda count, _complete: written.update(rows=count))
            sink.writelines(
                csv_lines(prepared.header, streamed, cells_are_safe=prepared.cells_are_safe)
            )

        app_file, bare_file = Digest(), Digest()
        app_export(app_file)
        exported = written["rows"]
        assert bare_export(demo.id, week, header, bare_file) == exported
        assert app_file.hexdigest() == bare_file.hexdigest(), "the two files differ"
        app_time, bare_time = timed_alternately(
            lambda: app_export(Devnull()),
            lambda: bare_export(demo.id, week, header, Devnull()),
            rounds,
        )
        app_memory = peak_memory(lambda: app_export(Devnull()))
        bare_memory = peak_memory(lambda: bare_export(demo.id, week, header, Devnull()))
        rows.append(
            (
                kind,
                f"weekly CSV export, {exported} contacts",
                app_time,
                bare_time,
                f"peak {app_memory:.1f} MB (bare {bare_memory:.1f} MB)",
            )
        )
        print(f"[{kind}] {total} contacts from {first_week} to {week}", flush=True)
        db.session.remove()
        db.engine.dispose()
    return rows


def table(rows: list[Row]) -> Iterator[str]:
    yield "| database | what | app | bare SQL | app / bare | notes |"
    yield "| --- | --- | ---: | ---: | ---: | --- |"
    for kind, label, app_time, bare_time, memory in rows:
        yield (
            f"| {kind} | {label} | {app_time * 1000:.0f} ms | {bare_time * 1000:.0f} ms | "
            f"{app_time / bare_time:.2f} | {memory} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--weeks", type=int, default=104)
    parser.add_argument("--people", type=int, default=6000)
    parser.add_argument("--export-week-contacts", type=int, default=20_000)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=None, help="Keep the SQLite file here.")
    parser.add_argument(
        "--name", default="bench", help="SQLite file stem and PostgreSQL database name."
    )
    parser.add_argument(
        "--reuse", action="store_true", help="Measure the databases a previous run loaded."
    )
    parser.add_argument("--first-view", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.first_view:
        render_once(args.url, args.first_view)
        return
    plan = Plan(args.contacts, args.weeks, args.people, args.export_week_contacts, seed=2026)
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    with tempfile.TemporaryDirectory() as scratch:
        workdir = args.workdir or Path(scratch)
        rows = [
            row
            for kind in kinds
            for row in run(kind, plan, workdir, args.name, args.rounds, args.reuse)
        ]
    print()
    loaded = (
        f"databases {args.name} as loaded before"
        if args.reuse
        else f"{args.contacts} contacts over {args.weeks} weeks, {args.people} people"
    )
    print(f"{loaded}, {datetime.now(UTC):%Y-%m-%d}, median of {args.rounds} warm runs")
    for line in table(rows):
        print(line)


if __name__ == "__main__":
    main()
