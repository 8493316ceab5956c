"""Utility of the funders' published figures (cell key method) against the true ones.

For every complete period of each kind (week, month, quarter, year to date, since the plan
began) and every level (total, zone, association), over every published count indicator:
the share of cells shown as a number >= T, the share shown as 0 (with the share whose true
count was not 0), and the mean absolute error of the shown counts; then the time of the
summary "since the plan began". On a database loaded by bench/reading.py (`--name`, with
`--reuse` there or here) or on the demo seed (`--demo`). See bench/README.md.

    .venv/bin/python bench/utility.py --demo
    .venv/bin/python bench/utility.py --contacts 100000 --database postgresql --name bench_utility
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade
from sqlalchemy import func, select

from config import get_settings
from outreach.clock import now_utc
from outreach.demo.seed import DEFAULT_CONTACTS, seed_demo
from outreach.extensions import db
from outreach.models import ALL, Contact
from outreach.reports.cellkey import PTable
from outreach.reports.periods import PERIOD_KINDS, complete_periods, last_complete_week
from outreach.reports.services import funders_summary, load_measures, load_registry

sys.path.insert(0, str(ROOT / "bench"))
from reading import Loader, Plan, bench_app, database_url, settle

LEVELS = ("total", "zone", "association")
# Headline indicators (contacts, people, shares' counts...) apart from the taxonomy families
# (one indicator per need, material and destination).
GROUPS = ("all", "headline", "families")


def measure(table: PTable) -> list[str]:
    registry = load_registry(db.session)
    counts = [i for i in registry.indicators if i.unit == "count" and i.protection != "activity"]
    last = last_complete_week(now_utc())
    first = db.session.scalar(select(func.min(Contact.iso_week))) or last
    lines = []
    for kind in PERIOD_KINDS:
        stats: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
        for period in complete_periods(kind, first, last):
            summary = funders_summary(db.session, period, table)
            true = load_measures(
                db.session, period.first_week, period.last_week, association_id=None
            )
            for indicator in counts:
                code = indicator.code
                total = next(r.total for r in summary.rows if r.indicator == indicator)
                cells = [("total", (ALL, ALL), total)]
                cells += [("zone", (ALL, z), c) for z, c in summary.by_zone[code].items()]
                cells += [
                    ("association", (a, ALL), c) for a, c in summary.by_association[code].items()
                ]
                for level, (association_id, zone_id), cell in cells:
                    value = indicator.value(
                        true.sums(period.weeks, association_id, zone_id, period.kind)
                    )
                    pair = (int(value or 0), int(cell.value or 0))
                    stats[level, "all"].append(pair)
                    stats[level, "headline" if indicator.headline else "families"].append(pair)
            db.session.rollback()
        for level, group in [(level, group) for level in LEVELS for group in GROUPS]:
            pairs = stats[level, group]
            if not pairs:
                continue
            shown = [(n, p) for n, p in pairs if p >= table.threshold]
            zeros = [(n, p) for n, p in pairs if p == 0]
            nonzero_hidden = sum(1 for n, _ in zeros if n)
            error = sum(abs(p - n) for n, p in shown) / len(shown) if shown else 0.0
            lines.append(
                f"| {kind} | {level} | {group} | {len(pairs)} | {len(shown) / len(pairs):.1%} | "
                f"{len(zeros) / len(pairs):.1%} ({nonzero_hidden / len(pairs):.1%} not truly 0) "
                f"| {error:.2f} |"
            )
    return lines


def plan_summary_time(table: PTable, rounds: int = 3) -> float:
    last = last_complete_week(now_utc())
    first = db.session.scalar(select(func.min(Contact.iso_week))) or last
    [period] = complete_periods("plan", first, last)
    funders_summary(db.session, period, table)  # refresh the roll-up first
    db.session.commit()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        funders_summary(db.session, period, table, breakdowns=["contacts"])
        times.append(time.perf_counter() - started)
        db.session.rollback()
    return sorted(times)[len(times) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", action="store_true", help="Measure the demo seed.")
    parser.add_argument("--demo-contacts", type=int, default=DEFAULT_CONTACTS)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--weeks", type=int, default=104)
    parser.add_argument("--people", type=int, default=6000)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--name", default="bench_utility")
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--threshold", type=int, default=5)
    parser.add_argument("--max-noise", type=int, default=3)
    args = parser.parse_args()
    table = PTable(args.threshold, args.max_noise)
    with tempfile.TemporaryDirectory() as scratch:
        kind = "sqlite" if args.demo else args.database
        url = database_url(kind, Path(scratch), args.name, args.reuse)
        app = bench_app(url)
        with app.app_context():
            if not args.reuse:
                upgrade()
                if args.demo:
                    seed_demo(
                        db.session,
                        get_settings(app),
                        contacts=args.demo_contacts,
                        password=secrets.token_urlsafe(16),
                    )
                    db.session.commit()
                else:
                    plan = Plan(args.contacts, args.weeks, args.people, 0, seed=2026)
                    facts = Loader(plan, now_utc()).load()
                    print(f"loaded in {facts['load_s']:.0f} s, roll-up {facts['refresh_s']:.1f} s")
                    settle(kind)
            total = db.session.scalar(select(func.count(Contact.id)))
            print(f"{total} contacts, {kind}, T={table.threshold}, D={table.max_noise}")
            print(
                "| period kind | level | indicators | cells | shown >= T | shown 0 | "
                "mean abs. error |"
            )
            print("| --- | --- | --- | --- | --- | --- | --- |")
            for line in measure(table):
                print(line)
            print(f"summary since the plan began: {plan_summary_time(table) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
