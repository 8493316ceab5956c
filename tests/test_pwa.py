"""Manifest, service worker and offline page: public, and caching no record."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from .conftest import text_of


def test_manifest_makes_the_app_installable(client: FlaskClient) -> None:
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    manifest = response.get_json()
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        image = client.get(icon["src"])
        assert image.status_code == 200 and image.data.startswith(b"\x89PNG")


def test_service_worker_caches_assets_and_the_form_shell_only(client: FlaskClient) -> None:
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "application/javascript"
    assert response.headers["Cache-Control"] == "no-store"
    script = response.get_data(as_text=True)
    version = re.search(r'const CACHE = "maraudes-([0-9a-f]{12})";', script)
    assert version, "the cache name changes with the assets"
    assets = re.search(r"const ASSETS = (\[.*?\]);", script)
    assert assets is not None
    assert all(path.startswith("/static/") for path in re.findall(r'"([^"]+)"', assets.group(1)))
    assert r"FORM_SHELL = /^\/patrols\/\d+\/contacts\/new$/" in script
    assert "/api/" not in script.replace("URL_CONTACTS", "")


def test_offline_page_is_public(client: FlaskClient) -> None:
    response = client.get("/offline")
    assert response.status_code == 200
    assert "Pas de réseau" in text_of(response)


def test_every_page_links_the_manifest_and_the_outbox(client: FlaskClient) -> None:
    page = text_of(client.get("/login"))
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    assert 'id="outbox"' in page and "outbox.js" in page
