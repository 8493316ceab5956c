"""What a durable commit costs a capture on SQLite: synchronous=FULL against NORMAL.

The app sets FULL (a 201 survives a power loss). In the same run, on the same disk, a
worker posts contacts one by one to /api/v1/contacts (one commit each) in the app as it
ships, then in the app with NORMAL set after it (the baseline); rounds alternate so that
the machine's load falls on both alike. Prints the median time per contact and the ratio
FULL / NORMAL. See bench/README.md.

    .venv/bin/python bench/durability.py --contacts 300 --rounds 5
"""

from __future__ import annotations

import argparse
import re
import secrets
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy import event

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from capture import PASSWORD, contacts, prepare

from config import Settings
from outreach import create_app
from outreach.extensions import db


def _csrf_token(page: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert match
    return match.group(1)


def per_contact(settings: Settings, synchronous: str, batch: list[dict[str, Any]]) -> float:
    """Seconds per contact posted one by one, with SQLite's `synchronous` as given."""
    app = create_app(settings)
    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "connect")
    def _synchronous(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA synchronous={synchronous}")

    with engine.connect() as connection:
        mode = connection.exec_driver_sql("PRAGMA synchronous").scalar()
    assert mode == {"NORMAL": 1, "FULL": 2}[synchronous], mode
    client = app.test_client()
    token = _csrf_token(client.get("/login").get_data(as_text=True))
    data = {"email": "bench@demo.test", "password": PASSWORD, "csrf_token": token}
    assert client.post("/login", data=data).status_code == 302
    headers = {"X-CSRFToken": _csrf_token(client.get("/", follow_redirects=True).get_data(True))}
    started = time.perf_counter()
    for body in batch:
        response = client.post("/api/v1/contacts", json=body, headers=headers)
        assert response.status_code == 201, response.get_data(as_text=True)[:300]
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed / len(batch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=300, help="contacts per round and mode")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workdir", type=Path, help="folder for the database (default: /tmp)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.workdir) as workdir:
        settings = replace(
            Settings(),
            database_url=f"sqlite:///{Path(workdir) / 'durability.sqlite3'}",
            secret_key=secrets.token_urlsafe(48),
            pseudonym_key=secrets.token_urlsafe(48),
        )
        patrol_id = prepare(settings)
        times: dict[str, list[float]] = {"NORMAL": [], "FULL": []}
        for round_ in range(args.rounds):
            for mode in ("NORMAL", "FULL") if round_ % 2 == 0 else ("FULL", "NORMAL"):
                batch = contacts(args.contacts, patrol_id, seed=round_ * 2 + (mode == "FULL"))
                times[mode].append(per_contact(settings, mode, batch))
    normal, full = (statistics.median(times[mode]) for mode in ("NORMAL", "FULL"))
    print(f"{args.contacts} contacts x {args.rounds} rounds, one POST each, SQLite WAL")
    print(f"NORMAL (baseline)  {normal * 1000:6.2f} ms per contact")
    print(f"FULL (shipped)     {full * 1000:6.2f} ms per contact")
    print(f"ratio FULL / NORMAL  {full / normal:.2f}")


if __name__ == "__main__":
    main()
