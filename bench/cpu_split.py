"""Where a capture's server CPU goes: inside the WSGI app, or gunicorn's and the kernel's.

The same servers as `throughput.py` (gunicorn -c gunicorn.conf.py, the app and the floor),
each wrapped by `timed_wsgi.py`, which counts the CPU of every request inside the app.
N simulated workers (16 by default, closed loop) send contacts through the floor, the API
and the HTML form; the table gives, per contact, the CPU of the server's processes
(gunicorn's master and workers, as in `throughput.py`), the part of it spent inside the
app's WSGI call, and the rest: gunicorn's HTTP handling, threads and access log, and the
kernel's share of the socket work.

    .venv/bin/python bench/cpu_split.py --database sqlite
    # one simulated worker against one gunicorn worker of one thread:
    GUNICORN_WORKERS=1 GUNICORN_THREADS=1 .venv/bin/python bench/cpu_split.py --workers 1
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import throughput as bench

# The paths measured, by their name in throughput.routes, with the key timed_wsgi files
# their requests under.
PATHS = {
    "floor (bare WSGI insert)": "POST contacts",
    "API, 1 contact a request": "POST api",
    "HTML form POST": "POST patrols",
}


def run(kind: str, workers: int, contacts: int, rounds: int) -> list[str]:
    lines = []
    with tempfile.TemporaryDirectory() as scratch:
        timings = Path(scratch) / "timings"
        timings.mkdir()
        url = bench.fresh_database(kind, Path(scratch))
        env = {**bench.server_env(url), "TIMED_WSGI_DIR": str(timings)}
        server_cpu: dict[str, list[float]] = defaultdict(list)
        try:
            association_id, seeded = bench.prepare(env, workers, 3000)
            path_args = ("--pythonpath", str(bench.ROOT / "bench"))
            with (
                bench.gunicorn(
                    "timed_wsgi:timed('wsgi:app')", env, Path(scratch) / "app.log", *path_args
                ) as app,
                bench.gunicorn(
                    "timed_wsgi:timed('floor_app:app')",
                    env,
                    Path(scratch) / "floor.log",
                    *path_args,
                ) as floor,
            ):
                clients = [bench.log_in(app.base, worker) for worker in seeded]
                routes = {r.name: r for r in bench.routes(app.base, floor.base, association_id, 1)}
                rng = random.Random(2026)  # synthetic data
                per_client = max(1, contacts // workers)
                for _ in range(rounds):
                    for name in PATHS:
                        route = routes[name]
                        measure = bench.measure(
                            route,
                            floor if route.is_floor else app,
                            clients,
                            [
                                [bench.contact_body(rng, c.worker) for _ in range(10)]
                                for c in clients
                            ],
                            [
                                [bench.contact_body(rng, c.worker) for _ in range(per_client)]
                                for c in clients
                            ],
                            0.0,
                        )
                        if measure.errors:
                            raise SystemExit(f"{name}: failed requests {dict(measure.errors)}")
                        server_cpu[name].append(measure.server_cpu / measure.contacts)
        finally:
            bench.drop_database(kind)
        inside = _inside_the_app(timings)
    floor_inside = inside[PATHS["floor (bare WSGI insert)"]]
    floor_total = statistics.median(server_cpu["floor (bare WSGI insert)"])
    for name, key in PATHS.items():
        total = statistics.median(server_cpu[name])
        lines.append(
            f"| {kind} | {name} | {total * 1000:.2f} | {inside[key] * 1000:.2f} "
            f"| {(total - inside[key]) * 1000:.2f} | {inside[key] / floor_inside:.2f} "
            f"| {floor_total / total:.2f} |"
        )
    return lines


def _inside_the_app(folder: Path) -> dict[str, float]:
    """CPU seconds per request inside the app, by key, over every worker's file."""
    counts: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for file in folder.glob("*.json"):
        for line in filter(None, file.read_text().splitlines()):
            entry = json.loads(line)
            counts[entry["key"]][0] += entry["n"]
            counts[entry["key"]][1] += entry["cpu"]
    return {key: cpu / n for key, (n, cpu) in counts.items() if n}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--workers", type=int, default=16, help="simulated workers (threads)")
    parser.add_argument("--contacts", type=int, default=2000, help="timed contacts per path")
    parser.add_argument("--rounds", type=int, default=2, help="measures per path (median)")
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    rows = [row for kind in kinds for row in run(kind, args.workers, args.contacts, args.rounds)]
    print(
        f"\n{args.workers} simulated workers, closed loop, {args.contacts} contacts per path "
        f"and round, median of {args.rounds}; gunicorn workers "
        f"{os.environ.get('GUNICORN_WORKERS', 'as gunicorn.conf.py')}, threads "
        f"{os.environ.get('GUNICORN_THREADS', 'as gunicorn.conf.py')}\n"
    )
    print(
        "| database | path | server CPU ms/contact | inside the app ms | gunicorn and kernel ms "
        "| inside, x floor's | floor / path, server CPU |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
