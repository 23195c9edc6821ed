"""The API documentation page (/api/v1/docs/): Swagger UI, from the site's own static files,
runs under the Content-Security-Policy with nothing refused, and answers a request made in
it with the signed-in user's session."""

from __future__ import annotations

import pytest

from .conftest import log_in


def watch(page, site: str) -> list[str]:
    """Every CSP violation and script error the page reports, and every request that leaves
    the site (a CDN)."""
    problems: list[str] = []
    page.on("console", lambda m: "Content Security Policy" in m.text and problems.append(m.text))
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on("request", lambda r: r.url.startswith(("data:", site)) or problems.append(r.url))
    return problems


@pytest.mark.django_db(transaction=True)
def test_the_api_documentation_renders_under_the_policy(page, live_server, catalogue, alice):
    problems = watch(page, live_server.url)
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/api/v1/docs/")
    species = page.locator("#operations-species-species_list")
    species.locator(".opblock-summary").click()
    page.click("button.try-out__btn")
    page.click("button.execute")
    status = species.locator(".live-responses-table tbody .response-col_status").first
    assert status.inner_text().strip() == "200"
    page.wait_for_load_state("networkidle")
    assert page.locator(".opblock").count() == 15  # every operation of the schema
    assert problems == []
