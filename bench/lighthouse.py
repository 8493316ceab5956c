"""Lighthouse mobile scores of the login page and the new-contact page, served by gunicorn.

Installs the pinned `lighthouse` npm package into bench/node_modules if needed, migrates and
seeds a throwaway SQLite database (demo history, one worker with an open patrol), serves
the app with the project's gunicorn.conf.py, logs the worker in over HTTP and runs
Lighthouse (mobile form factor, its default throttling) on the login page (logged out) and
on the new-contact page (with the session cookie as an extra header), `--runs` times each
in headless Chromium. Prints the median score of each category, the metrics behind the
performance score, and every audit that cost points. See bench/README.md.

    .venv/bin/python bench/lighthouse.py --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import statistics
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from throughput import Worker, fresh_database, gunicorn, logged_in, prepare

BENCH = Path(__file__).resolve().parent
# 12.8 is the last line that runs on the Node 20 of this machine (13 needs Node >= 22.19).
LIGHTHOUSE_VERSION = "12.8.2"
LIGHTHOUSE = BENCH / "node_modules" / ".bin" / "lighthouse"
CHROME_PATH = "/usr/bin/chromium"
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
TARGETS = {"performance": 95, "accessibility": 100, "best-practices": 95}
METRICS = (
    "first-contentful-paint",
    "largest-contentful-paint",
    "total-blocking-time",
    "cumulative-layout-shift",
    "speed-index",
)

Report = dict[str, Any]


def ensure_lighthouse() -> None:
    installed = BENCH / "node_modules" / "lighthouse" / "package.json"
    if installed.exists() and json.loads(installed.read_text())["version"] == LIGHTHOUSE_VERSION:
        return
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm not found: install Node.js (20 or later) and npm")
    subprocess.run(  # noqa: S603 (fixed argv)
        [
            npm,
            "install",
            "--prefix",
            str(BENCH),
            "--no-save",
            "--no-package-lock",
            "--no-audit",
            "--no-fund",
            f"lighthouse@{LIGHTHOUSE_VERSION}",
        ],
        check=True,
    )


def session_cookie(base: str, worker: Worker) -> str:
    """The Cookie header of a browser that logged in as the worker."""
    browser = logged_in(base, worker)
    return "; ".join(f"{name}={value}" for name, value in browser.cookies.items())


def lighthouse(url: str, output: Path, cookie: str | None) -> Report:
    command = [
        str(LIGHTHOUSE),
        url,
        "--output=json",
        f"--output-path={output}",
        "--quiet",
        f"--only-categories={','.join(CATEGORIES)}",
        f"--chrome-flags={CHROME_FLAGS}",
    ]
    if cookie is not None:
        command.append(f"--extra-headers={json.dumps({'Cookie': cookie})}")
    subprocess.run(command, check=True, env={**os.environ, "CHROME_PATH": CHROME_PATH})  # noqa: S603
    report: Report = json.loads(output.read_text())
    assert report["finalDisplayedUrl"] == url, f"redirected to {report['finalDisplayedUrl']}"
    return report


def scores(report: Report) -> dict[str, int]:
    return {name: round((report["categories"][name]["score"] or 0) * 100) for name in CATEGORIES}


def lost_points(report: Report) -> Iterator[str]:
    """Weighted audits that did not pass, by category."""
    for name in CATEGORIES:
        for ref in report["categories"][name]["auditRefs"]:
            audit = report["audits"][ref["id"]]
            if ref["weight"] and audit["score"] is not None and audit["score"] < 1:
                shown = f" ({audit['displayValue']})" if audit.get("displayValue") else ""
                yield f"{name}: {ref['id']} score {audit['score']:.2f}{shown}: {audit['title']}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs per page")
    parser.add_argument("--history", type=int, default=1000, help="demo contacts seeded")
    parser.add_argument("--reports", type=Path, default=None, help="keep the JSON reports here")
    args = parser.parse_args()
    ensure_lighthouse()
    with tempfile.TemporaryDirectory() as scratch:
        reports = args.reports or Path(scratch)
        reports.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "OUTREACH_ENV": "development",
            "DATABASE_URL": fresh_database("sqlite", Path(scratch)),
            "SECRET_KEY": secrets.token_urlsafe(48),
            "PSEUDONYM_KEY": secrets.token_urlsafe(48),
        }
        _association, (worker,) = prepare(env, 1, args.history)
        results: dict[str, list[Report]] = {}
        with gunicorn("wsgi:app", env, reports / "gunicorn.log") as app:
            cookie = session_cookie(app.base, worker)
            pages = {
                "login": (f"{app.base}/login", None),
                "new contact": (f"{app.base}/patrols/{worker.patrol_id}/contacts/new", cookie),
            }
            for page, (url, page_cookie) in pages.items():
                results[page] = [
                    lighthouse(url, reports / f"{page.replace(' ', '-')}-{run}.json", page_cookie)
                    for run in range(1, args.runs + 1)
                ]
    print(f"\nLighthouse {LIGHTHOUSE_VERSION}, mobile, median of {args.runs} runs\n")
    print("| page | " + " | ".join(CATEGORIES) + " | " + " | ".join(METRICS) + " |")
    print("| --- |" + " ---: |" * (len(CATEGORIES) + len(METRICS)))
    for page, runs in results.items():
        medians = [statistics.median(scores(r)[name] for r in runs) for name in CATEGORIES]
        metrics = [statistics.median(r["audits"][m]["numericValue"] for r in runs) for m in METRICS]
        shown = [
            f"{value:.3f}" if name.startswith("cumulative") else f"{value:.0f} ms"
            for name, value in zip(METRICS, metrics, strict=True)
        ]
        print(
            f"| {page} | "
            + " | ".join(f"{m:.0f}" for m in medians)
            + " | "
            + " | ".join(shown)
            + " |"
        )
    for page, runs in results.items():
        print(f"\n{page}: runs {[scores(r) for r in runs]}")
        for line in sorted({line for r in runs for line in lost_points(r)}):
            print(f"- {line}")
        for name, target in TARGETS.items():
            median = statistics.median(scores(r)[name] for r in runs)
            print(f"- target {name} >= {target}: {'met' if median >= target else 'MISSED'}")


if __name__ == "__main__":
    main()
