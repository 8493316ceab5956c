"""Two gunicorn instances over one PostgreSQL database and one Redis: nothing else shared.

A phone alternates between the instances (as behind a load balancer without stickiness):
login, capture, sync, throttling and logout must hold across them. The instances run as
production does (`OUTREACH_ENV=production`, `gunicorn -c gunicorn.conf.py`, one trusted
proxy hop), and the phone reaches them as through the TLS proxy of docs/deploy.md:
`X-Forwarded-Proto: https`, so `Secure` `__Host-` cookies and Flask-WTF's HTTPS referrer
check are in play.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from flask_migrate import upgrade
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from config import PROJECT_ROOT, Settings
from outreach import create_app
from outreach.auth.services import create_user
from outreach.demo.seed import ensure_reference_data
from outreach.extensions import db
from outreach.models import Contact

from .conftest import REDIS_URL, redis_or_skip

PASSWORD = "two instances, one database"
GUNICORN = Path(PROJECT_ROOT) / ".venv" / "bin" / "gunicorn"


@pytest.fixture
def shared_database(settings: Settings) -> Iterator[Settings]:
    url = make_url(settings.database_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("several instances share PostgreSQL: set TEST_DATABASE_URL to run this")
    redis_or_skip()
    name = f"{url.database}_instances"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    shared = replace(
        settings,
        database_url=url.set(database=name).render_as_string(hide_password=False),
        ratelimit_storage_url=REDIS_URL,
    )
    app = create_app(shared)
    with app.app_context():
        upgrade()
        associations, _zones = ensure_reference_data(db.session)
        for email in ("phone@demo.test", "target@demo.test", "bystander@demo.test"):
            create_user(
                db.session,
                shared,
                email=email,
                role="worker",
                password=PASSWORD,
                display_name=email.split("@")[0],
                association=associations["demo"],
            )
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    yield shared
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Phone(requests.Session):
    """A browser behind the TLS proxy: the proxy's headers on every request, the
    same-origin Referer a page's form or fetch carries, and its `Secure` cookies sent back
    although the last hop is plain HTTP (which `requests` alone would refuse to do)."""

    def __init__(self, address: str = "198.51.100.7") -> None:
        super().__init__()
        self.address = address
        self.cookie_headers: list[str] = []  # every Set-Cookie received, as sent

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        origin = "https://" + urlsplit(str(url)).netloc
        headers = {
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": self.address,
            "Referer": f"{origin}/",
            **(kwargs.pop("headers", None) or {}),
        }
        response = super().request(method, url, *args, headers=headers, **kwargs)
        self.cookie_headers += response.raw.headers.getlist("Set-Cookie")
        for cookie in self.cookies:
            cookie.secure = False  # the proxy's side of the connection is the HTTPS one
        return response


@pytest.fixture
def instances(shared_database: Settings) -> Iterator[list[str]]:
    env = {
        **os.environ,
        "OUTREACH_ENV": "production",
        "DATABASE_URL": shared_database.database_url,
        "SECRET_KEY": shared_database.secret_key,
        "PSEUDONYM_KEY": shared_database.pseudonym_key,
        "RATELIMIT_STORAGE_URL": REDIS_URL,
        "TRUSTED_PROXY_HOPS": "1",
        "GUNICORN_WORKERS": "2",
    }
    processes, urls = [], []
    for _ in range(2):
        port = _free_port()
        processes.append(
            subprocess.Popen(  # noqa: S603 (fixed argv)
                [str(GUNICORN), "-c", "gunicorn.conf.py", "wsgi:app"],
                cwd=PROJECT_ROOT,
                env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}"},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for url in urls:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                assert time.monotonic() < deadline, f"{url} did not start"
                time.sleep(0.2)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=15)


def _token(response: requests.Response) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', response.text)
    assert match, response.text[:200]
    return match.group(1)


def _login(phone: requests.Session, url: str, email: str, password: str) -> requests.Response:
    token = _token(phone.get(f"{url}/login", timeout=10))
    return phone.post(
        f"{url}/login",
        data={"email": email, "password": password, "csrf_token": token},
        allow_redirects=False,
        timeout=30,
    )


def _contact() -> dict[str, object]:
    return {
        "id": str(uuid.uuid4()),
        "occurred_at": (datetime.now(UTC) - timedelta(minutes=2)).isoformat(),
        "zone": "stalingrad",
        "needs": ["food"],
        "materials": {"kit_base": 1},
    }


def _rows(settings: Settings) -> int:
    engine = create_engine(settings.database_url)
    with engine.connect() as connection:
        count = connection.execute(select(func.count()).select_from(Contact)).scalar_one()
    engine.dispose()
    return count


def test_login_capture_sync_throttling_and_logout_hold_across_instances(
    instances: list[str], shared_database: Settings
) -> None:
    a, b = instances
    phone = Phone()

    assert _login(phone, a, "phone@demo.test", PASSWORD).status_code == 302
    login_cookie = next(c for c in phone.cookie_headers if c.startswith("__Host-session="))
    assert "Secure" in login_cookie and "HttpOnly" in login_cookie, login_cookie
    page_on_b = phone.get(f"{b}/patrols", allow_redirects=False, timeout=10)
    assert page_on_b.status_code == 200, "a session opened on A is valid on B"

    token = _token(page_on_b)
    batch = [_contact() for _ in range(3)]
    sent_to_b = phone.post(f"{b}/api/v1/contacts", json=batch, headers={"X-CSRFToken": token})
    assert [r["status"] for r in sent_to_b.json()["results"]] == ["created"] * 3
    resent_to_a = phone.post(f"{a}/api/v1/contacts", json=batch, headers={"X-CSRFToken": token})
    assert [r["status"] for r in resent_to_a.json()["results"]] == ["unchanged"] * 3
    assert _rows(shared_database) == 3

    # Wrong passwords for one account, spread over both instances, share one counter.
    attacker = Phone(address="203.0.113.9")
    statuses = [
        _login(attacker, (a, b)[attempt % 2], "target@demo.test", "wrong password!").status_code
        for attempt in range(8)
    ]
    assert statuses[0] == 401 and statuses[-1] == 429, statuses
    assert _login(attacker, a, "target@demo.test", PASSWORD).status_code == 429
    assert _login(Phone(), b, "bystander@demo.test", PASSWORD).status_code == 302

    logout_token = _token(phone.get(f"{b}/patrols", timeout=10))
    assert (
        phone.post(
            f"{b}/logout", data={"csrf_token": logout_token}, allow_redirects=False
        ).status_code
        == 302
    )
    after = phone.get(f"{a}/patrols", allow_redirects=False, timeout=10)
    assert after.status_code == 302 and "/login" in after.headers["Location"]


def test_a_cookie_saved_before_logout_no_longer_works_on_the_other_instance(
    instances: list[str],
) -> None:
    a, b = instances
    phone = Phone()
    assert _login(phone, a, "phone@demo.test", PASSWORD).status_code == 302
    saved = phone.cookies.get_dict()
    before = Phone()
    before.cookies.update(saved)
    assert before.get(f"{b}/patrols", allow_redirects=False, timeout=10).status_code == 200
    token = _token(phone.get(f"{a}/patrols", timeout=10))
    logout = phone.post(f"{a}/logout", data={"csrf_token": token}, allow_redirects=False)
    assert logout.status_code == 302

    replayed = Phone()
    replayed.cookies.update(saved)
    response = replayed.get(f"{b}/patrols", allow_redirects=False, timeout=10)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_retired_need_is_refused_at_once_by_every_instance(
    instances: list[str], shared_database: Settings
) -> None:
    """Each process keeps the taxonomies per stamp; a write anywhere renews the stamp."""
    phone = Phone()
    assert _login(phone, instances[0], "phone@demo.test", PASSWORD).status_code == 302
    token = _token(phone.get(f"{instances[0]}/patrols", timeout=10))

    def statuses() -> list[int]:  # several requests each, so that every worker answers
        return [
            phone.post(
                f"{url}/api/v1/contacts", json=_contact(), headers={"X-CSRFToken": token}
            ).status_code
            for url in instances
            for _ in range(6)
        ]

    assert statuses() == [201] * 12  # every worker has "food" in its copy now
    engine = create_engine(shared_database.database_url)  # the admin's change, committed
    with engine.begin() as connection:
        connection.execute(text("UPDATE needs SET active = false WHERE code = 'food'"))
    engine.dispose()
    assert statuses() == [422] * 12
