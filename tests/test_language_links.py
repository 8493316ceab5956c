"""The language switcher's links stay on this site, whatever path was asked for."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

HOSTILE_PATHS = [
    "/%5Cevil.example",
    "/%5C%5Cevil.example",
    "/%2F%2Fevil.example",
    "/%09/evil.example",
    "/nothing/%5C..%5Cevil.example",
]


def language_links(body: str) -> list[str]:
    return re.findall(r'<a href="([^"]*)" lang="[a-z]{2}" hreflang=', body)


@pytest.mark.parametrize("path", HOSTILE_PATHS)
def test_an_unknown_page_links_to_this_sites_home_in_each_language(
    client: FlaskClient, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 404, path
    links = language_links(response.get_data(as_text=True))
    assert links, "the error page offers the languages (before login)"
    for link in links:
        assert link.startswith("/?lang="), link
        assert "\\" not in link and "evil" not in link


def test_a_page_keeps_its_route_and_parameters_in_the_other_language(
    client: FlaskClient,
) -> None:
    body = client.get("/login?next=/patrols").get_data(as_text=True)
    links = [link.replace("&amp;", "&") for link in language_links(body)]
    assert "/login?next=%2Fpatrols&lang=en" in links
