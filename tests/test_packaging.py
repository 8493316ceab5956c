"""`pip install .` gives a working app: the wheel, unpacked away from the checkout, migrates
its database and serves pages in English, with its templates, static files, migrations and
compiled catalogues inside."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import outreach, config
from outreach import create_app
assert outreach.__file__.startswith({site!r}), outreach.__file__
app = create_app()
client = app.test_client()
login = client.get("/login", headers={{"Accept-Language": "en"}})
script = client.get("/static/js/outbox.js")
print(login.status_code, "Log in" in login.get_data(as_text=True), script.status_code)
"""


def run(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (this interpreter, the repository's own code)
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_the_installed_wheel_migrates_and_serves_pages_in_english(tmp_path: Path) -> None:
    build = run(
        "-m",
        "pip",
        "wheel",
        "--quiet",
        "--no-deps",
        "--wheel-dir",
        str(tmp_path / "dist"),
        str(ROOT),
        cwd=tmp_path,
        env=dict(os.environ),
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = (tmp_path / "dist").glob("outreach-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "config.py",
        "wsgi.py",
        "outreach/_resources/templates/base.html",
        "outreach/_resources/static/js/outbox.js",
        "outreach/_resources/migrations/env.py",
        "outreach/_resources/translations/en/LC_MESSAGES/messages.mo",
    ):
        assert needed in names, f"{needed} is missing from the wheel"

    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TEST_", "DATABASE_", "OUTREACH_"))
    }
    env["PYTHONPATH"] = str(site)
    migrated = run("-m", "flask", "--app", "wsgi", "db", "upgrade", cwd=workdir, env=env)
    assert migrated.returncode == 0, migrated.stderr
    assert (workdir / "instance" / "outreach.sqlite3").is_file()
    probe = run("-c", PROBE.format(site=str(site)), cwd=workdir, env=env)
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.split() == ["200", "True", "200"]
