"""The activity report of one association for a whole ISO year, at scale.

Loads N synthetic contacts with bench/reading.py's generator and loader (104 weeks ending
last week, 4 associations; `demo` holds 45 %), or reuses a database it loaded (`--reuse`,
same `--name`), then times the report's service for the last complete ISO year of `demo`:
the first call, and the median of `--rounds` more. Checks its distinct people and
contacts against a bare `COUNT(DISTINCT)` over the same rows. See bench/README.md.

    .venv/bin/python bench/annual_report.py --contacts 1000000 --database postgresql
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade
from sqlalchemy import func, select, text

from outreach.activity_report.services import activity_report
from outreach.clock import now_utc
from outreach.extensions import db
from outreach.models import Association, Contact
from outreach.reports.periods import last_complete_week, parse_week, year_period

sys.path.insert(0, str(ROOT / "bench"))
from reading import Loader, Plan, bench_app, database_url, settle, timed_cold


def run(kind: str, plan: Plan, workdir: Path, name: str, rounds: int, reuse: bool) -> str:
    app = bench_app(database_url(kind, workdir, name, reuse))
    with app.app_context():
        if not reuse:
            upgrade()
            facts = Loader(plan, now_utc()).load()
            print(f"[{kind}] loaded in {facts['load_s']:.0f} s", flush=True)
            settle(kind)
        demo = db.session.scalar(select(Association).where(Association.slug == "demo"))
        assert demo is not None
        year = parse_week(last_complete_week(now_utc()))[0] - 1
        period = year_period(year)
        cold, warm, report = timed_cold(lambda: activity_report(db.session, demo, period), rounds)
        contacts, people = db.session.execute(
            text(
                "SELECT COUNT(*), COUNT(DISTINCT pseudonym_association) FROM contacts"
                " WHERE association_id = :a AND iso_week BETWEEN :first AND :last"
            ),
            {"a": demo.id, "first": period.first_week, "last": period.last_week},
        ).one()
        assert report.totals["contacts"] == contacts
        assert report.totals["people_distinct"] == people
        total = db.session.scalar(select(func.count(Contact.id)))
        db.session.remove()
        db.engine.dispose()
    return (
        f"| {kind} | {total} | {year} | {contacts} | {people} | "
        f"{cold * 1000:.0f} ms | {warm * 1000:.0f} ms |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--weeks", type=int, default=104)
    parser.add_argument("--people", type=int, default=6000)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=None, help="Keep the SQLite file here.")
    parser.add_argument("--name", default="bench_annual")
    parser.add_argument("--reuse", action="store_true", help="Measure a database loaded before.")
    args = parser.parse_args()
    plan = Plan(args.contacts, args.weeks, args.people, 0, seed=2026)
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    with tempfile.TemporaryDirectory() as scratch:
        workdir = args.workdir or Path(scratch)
        lines = [run(kind, plan, workdir, args.name, args.rounds, args.reuse) for kind in kinds]
    print(
        "| database | contacts in all | ISO year | demo's contacts that year | people | "
        "first call | median of warm calls |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for line in lines:
        print(line)


if __name__ == "__main__":
    main()
