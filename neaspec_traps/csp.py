"""The Content-Security-Policy header, until Django 6.0's own middleware sends SECURE_CSP.

A fixed header: no nonces (no template has inline script or style) and no view needs a
policy of its own, so a few lines do what django-csp would.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def tile_sources(url: str) -> list[str]:
    """The CSP sources that let Leaflet load tiles from a URL template such as
    https://{s}.tile.example.org/{z}/{x}/{y}.png; none for tiles of our own or no tiles."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    if not host:
        return []
    first, dot, rest = host.partition(".")
    if "{" in first and dot:
        first = "*"  # Leaflet's {s} subdomains: CSP allows a wildcard only there
    host = first + dot + rest
    if "{" in host or "}" in host:
        raise ImproperlyConfigured(f"MAP_TILE_URL's host cannot be allowed by a CSP: {url}")
    return [f"{parts.scheme}://{host}" if parts.scheme else host]


class ContentSecurityPolicyMiddleware:
    """Adds settings.SECURE_CSP to every response that does not have a policy yet."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.header = "; ".join(
            " ".join([directive, *sources]) for directive, sources in settings.SECURE_CSP.items()
        )

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.header)
        return response
