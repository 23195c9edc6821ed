"""Content-Security-Policy, Referrer-Policy and nosniff on every response; no inline script."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ImproperlyConfigured

from neaspec_traps.csp import tile_sources

from .conftest import BASE_DIR

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data: blob: https://tile.openstreetmap.org; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def assert_headers(response) -> None:
    assert response.headers["Content-Security-Policy"] == POLICY
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_page_carries_the_policy(client, alice):
    client.force_login(alice)
    response = client.get("/")
    assert response.status_code == 200
    assert_headers(response)


def test_the_login_page_carries_the_policy(client):
    assert_headers(client.get("/login/"))


def test_a_json_response_carries_the_policy(client, alice, cn_deployment):
    client.force_login(alice)
    response = client.get("/map.geojson", headers={"Accept": "application/json"})
    assert (response.status_code, response["Content-Type"]) == (200, "application/json")
    assert_headers(response)


def test_a_404_carries_the_policy(client, alice):
    client.force_login(alice)
    response = client.get("/sightings/999999/")
    assert response.status_code == 404
    assert_headers(response)


def test_the_admin_carries_the_policy(client, site_admin):
    client.force_login(site_admin)
    response = client.get("/admin/")
    assert response.status_code == 200
    assert_headers(response)


def test_the_lockout_page_carries_the_policy(client, alice, settings):
    settings.AXES_FAILURE_LIMIT = 1
    response = client.post("/login/", {"username": "alice", "password": "wrong"})
    assert response.status_code == 429
    assert_headers(response)


@pytest.mark.parametrize(
    "url, sources",
    [
        ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", ["https://tile.openstreetmap.org"]),
        ("https://{s}.tile.example.org/hot/{z}/{x}/{y}{r}.png", ["https://*.tile.example.org"]),
        ("http://tiles.local:8080/{z}/{x}/{y}.png?key={key}", ["http://tiles.local:8080"]),
        ("//tile.example.org/{z}/{x}/{y}.png", ["tile.example.org"]),
        ("/static/tiles/{z}/{x}/{y}.png", []),  # our own: 'self' covers them
        ("", []),  # no tiles: the map draws a grid
    ],
)
def test_the_tile_server_is_allowed_for_images(url, sources):
    assert tile_sources(url) == sources


@pytest.mark.parametrize("url", ["https://a.{s}.example.org/{z}.png", "https://{s}/{z}.png"])
def test_a_tile_host_no_policy_can_name_fails_loudly(url):
    with pytest.raises(ImproperlyConfigured, match="MAP_TILE_URL"):
        tile_sources(url)


INLINE = {
    "inline script": re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.IGNORECASE),
    "inline event handler": re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE),
    "style element": re.compile(r"<style\b", re.IGNORECASE),
    "style attribute": re.compile(r"<[^>]*\sstyle\s*=", re.IGNORECASE),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
}


@pytest.mark.parametrize(
    "template",
    sorted((BASE_DIR / "templates").rglob("*.html")),
    ids=lambda path: str(path.relative_to(BASE_DIR / "templates")),
)
def test_no_template_has_inline_script_or_style(template):
    text = template.read_text()
    found = [kind for kind, pattern in INLINE.items() if pattern.search(text)]
    assert found == []
