"""Capture benchmarks: syncing a phone's outbox of 500 contacts, and the capture page's weight.

Runs the real app under gunicorn on a fresh database (SQLite file and/or PostgreSQL),
logs in over HTTP, posts batches of 500 contacts to /api/v1/contacts, then inserts the
same rows with bare SQLAlchemy Core executemany in the same run (the floor), and prints
a table with the ratio app / floor. See bench/README.md.

    .venv/bin/python bench/capture.py --database both --rounds 5
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config import Settings
from outreach import create_app
from outreach.auth.services import create_user
from outreach.capture.services import (
    build_contact,
    load_capture_options,
    start_patrol,
)
from outreach.capture.validation import validate_contact
from outreach.demo.seed import ensure_reference_data
from outreach.extensions import db
from outreach.models import (
    Contact,
    ContactMaterial,
    ContactNeed,
    Referral,
    ReferralStatusChange,
    User,
)

PASSWORD = "benchmark password 2026"  # noqa: S105 (throwaway database)
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
NEEDS = ["shelter", "food", "rdr_material", "hygiene", "rest", "somatic_care"]
MATERIALS = ["kit_base", "filter", "mouthpiece", "healing_cream", "food_item"]
DESTINATIONS = ["caarud", "shelter_115", "csapa", "rest_area", "hsa"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fresh_database(kind: str, workdir: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'capture-bench.sqlite3'}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS bench_capture WITH (FORCE)"))
        connection.execute(text("CREATE DATABASE bench_capture"))
    admin.dispose()
    return make_url(PG_ADMIN_URL).set(database="bench_capture").render_as_string(False)


def prepare(settings: Settings) -> int:
    """Migrate, create the reference data, one worker and an open patrol; return its id."""
    from flask_migrate import upgrade

    app = create_app(settings)
    with app.app_context():
        upgrade()
        associations, zones = ensure_reference_data(db.session)
        worker = create_user(
            db.session,
            settings,
            email="bench@demo.test",
            role="worker",
            password=PASSWORD,
            display_name="Bench",
            association=associations["demo"],
        )
        patrol = start_patrol(
            db.session,
            associations["demo"],
            zones["stalingrad"],
            worker,
            [],
            datetime.now(UTC) - timedelta(hours=2),
        )
        db.session.commit()
        patrol_id = patrol.id
        db.session.remove()
        db.engine.dispose()
    return patrol_id


def contacts(count: int, patrol_id: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)  # synthetic data
    now = datetime.now(UTC)
    batch = []
    for index in range(count):
        batch.append(
            {
                "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "occurred_at": (now - timedelta(minutes=index % 90 + 1)).isoformat(),
                "zone": "stalingrad",
                "patrol_id": patrol_id,
                "person_code": f"AB {1960 + index % 40}" if index % 3 else None,
                "gender": rng.choice(["female", "male", "unknown"]),
                "age_band": rng.choice(["25_34", "35_44", "45_54"]),
                "housing": rng.choice(["street", "squat", "unknown"]),
                "first_contact": index % 7 == 0,
                "needs": rng.sample(NEEDS, k=rng.randint(0, 2)),
                "materials": {code: rng.randint(1, 4) for code in rng.sample(MATERIALS, k=2)},
                "referrals": [{"destination": rng.choice(DESTINATIONS), "accompanied": False}]
                if index % 4 == 0
                else [],
            }
        )
    return batch


@contextmanager
def gunicorn(settings: Settings, workers: int) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": settings.secret_key,
        "PSEUDONYM_KEY": settings.pseudonym_key,
        "OUTREACH_ENV": "development",
    }
    process = subprocess.Popen(  # noqa: S603 (fixed argv)
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        else:
            raise RuntimeError("gunicorn did not start")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def login(base: str) -> tuple[requests.Session, str]:
    session = requests.Session()
    page = session.get(f"{base}/login", timeout=10).text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert token
    response = session.post(
        f"{base}/login",
        data={"email": "bench@demo.test", "password": PASSWORD, "csrf_token": token.group(1)},
        timeout=30,
    )
    response.raise_for_status()
    page = session.get(f"{base}/patrols", timeout=10).text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert token
    return session, token.group(1)


def floor_insert(settings: Settings, batch: list[dict[str, Any]]) -> float:
    """The same rows, with the same pseudonyms, through bare Core executemany: the floor."""
    app = create_app(settings)
    with app.app_context():
        worker = db.session.scalars(select(User).where(User.email == "bench@demo.test")).one()
        association = worker.association
        assert association is not None
        options = load_capture_options(db.session, association.id, [batch[0]["patrol_id"]])
        now = datetime.now(UTC)
        started = time.perf_counter()
        rows, needs, materials, referrals = [], [], [], []
        for body in batch:
            draft, errors = validate_contact(body, options, now)
            assert draft is not None, errors
            contact = build_contact(draft, worker, association, settings.pseudonym_key, now)
            rows.append(
                {
                    column.key: getattr(contact, column.key)
                    for column in Contact.__table__.columns
                    if column.key != "id"
                }
            )
        worker_id = worker.id
        db.session.rollback()  # SQLite: release the session's lock before the bare inserts
        with db.engine.begin() as connection:
            ids = connection.execute(insert(Contact).returning(Contact.id), rows).scalars().all()
            for contact_id, body in zip(ids, batch, strict=True):
                needs += [{"contact_id": contact_id, "need_code": code} for code in body["needs"]]
                materials += [
                    {"contact_id": contact_id, "material_code": code, "quantity": quantity}
                    for code, quantity in body["materials"].items()
                ]
                referrals += [
                    {
                        "contact_id": contact_id,
                        "destination_code": r["destination"],
                        "accompanied": r["accompanied"],
                        "status": "proposed",
                        "status_changed_at": now,
                    }
                    for r in body["referrals"]
                ]
            if needs:
                connection.execute(insert(ContactNeed), needs)
            connection.execute(insert(ContactMaterial), materials)
            if referrals:
                referral_ids = (
                    connection.execute(insert(Referral).returning(Referral.id), referrals)
                    .scalars()
                    .all()
                )
                connection.execute(
                    insert(ReferralStatusChange),
                    [
                        {
                            "referral_id": rid,
                            "status": "proposed",
                            "changed_at": now,
                            "changed_by_id": worker_id,
                        }
                        for rid in referral_ids
                    ],
                )
        elapsed = time.perf_counter() - started
        db.session.remove()
        db.engine.dispose()
    return elapsed


def page_weight(base: str, session: requests.Session, patrol_id: int) -> list[tuple[str, int, int]]:
    page = session.get(f"{base}/patrols/{patrol_id}/contacts/new", timeout=10)
    parts = [("capture page HTML", page.content)]
    for asset in re.findall(r'(?:href|src)="(/static/[^"]+\.(?:css|js))"', page.text):
        parts.append((asset, session.get(f"{base}{asset}", timeout=10).content))
    return [(name, len(body), len(gzip.compress(body, 9))) for name, body in parts]


def run(kind: str, rounds: int, batch_size: int, workers: int) -> None:
    with tempfile.TemporaryDirectory() as workdir:
        settings = replace(
            Settings(),
            database_url=fresh_database(kind, Path(workdir)),
            secret_key=secrets.token_urlsafe(48),
            pseudonym_key=secrets.token_urlsafe(48),
        )
        patrol_id = prepare(settings)
        app_times, replay_times, floor_times = [], [], []
        with gunicorn(settings, workers) as base:
            session, token = login(base)
            for round_ in range(rounds):
                batch = contacts(batch_size, patrol_id, seed=round_)
                started = time.perf_counter()
                response = session.post(
                    f"{base}/api/v1/contacts",
                    json=batch,
                    headers={"X-CSRFToken": token},
                    timeout=120,
                )
                app_times.append(time.perf_counter() - started)
                results = response.json()["results"]
                assert {r["status"] for r in results} == {"created"}, response.text[:300]
                started = time.perf_counter()
                replay = session.post(
                    f"{base}/api/v1/contacts",
                    json=batch,
                    headers={"X-CSRFToken": token},
                    timeout=120,
                )
                replay_times.append(time.perf_counter() - started)
                assert {r["status"] for r in replay.json()["results"]} == {"unchanged"}
                floor_times.append(
                    floor_insert(settings, contacts(batch_size, patrol_id, 1000 + round_))
                )
            weights = page_weight(base, session, patrol_id)

        app_median = statistics.median(app_times)
        floor_median = statistics.median(floor_times)
        print(
            f"\n## {kind}: {rounds} rounds of {batch_size} contacts, gunicorn --workers {workers}\n"
        )
        print("| measure | median s | min s | max s |")
        print("| --- | --- | --- | --- |")
        for name, values in (
            (f"POST {batch_size} new contacts (app, over HTTP)", app_times),
            (f"POST the same {batch_size} again (all replays)", replay_times),
            (f"floor: bare Core executemany of {batch_size}", floor_times),
        ):
            print(
                f"| {name} | {statistics.median(values):.3f} "
                f"| {min(values):.3f} | {max(values):.3f} |"
            )
        print(
            f"\nratio app / floor (median): {app_median / floor_median:.1f}x; "
            f"target: a batch of 500 under 3 s -> {'met' if app_median < 3 else 'MISSED'}"
        )
        print("\n| capture page part | bytes | gzip -9 bytes |")
        print("| --- | --- | --- |")
        for name, raw, compressed in weights:
            print(f"| {name} | {raw} | {compressed} |")
        total = sum(compressed for _, _, compressed in weights)
        print(f"| total | {sum(raw for _, raw, _ in weights)} | {total} |")
        print(
            "\ntarget: capture page under 30 KB compressed -> "
            f"{'met' if total < 30 * 1024 else 'MISSED'}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    for kind in kinds:
        run(kind, args.rounds, args.batch, args.workers)


if __name__ == "__main__":
    main()
