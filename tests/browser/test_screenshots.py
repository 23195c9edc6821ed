"""The main pages as a field team sees them: their weight in scripts and styles, and the
screenshots in the README (`python bench/screenshots.py` keeps them in docs/screenshots/)."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest
from PIL import Image

from sightings import independence
from sightings.models import Sighting

from .conftest import log_in

VIEWPORT = {"width": 1366, "height": 900}
# A cold first visit of any main page loads at most this much script and style, decoded.
# Leaflet and its clustering (the map pages) are most of it.
BUDGET_BYTES = 400_000


def main_pages(exchange: dict) -> list[tuple[str, str, str]]:
    """(file name, language, address) of each page the README shows."""
    cn = exchange["cn"]
    # The analysis pages count independent detections, which a worker marks after naming.
    named = Sighting.objects.exclude(species=None)
    for location, species in named.values_list("location", "species").distinct():
        independence.update_series(location, species)
    deployment, batch = cn[0].deployment_id, cn[0].batch_id
    draft = next(media for media in cn if media.event_id != cn[0].event_id)
    return [
        ("deployments", "en", "/"),
        ("upload", "en", f"/deployments/{deployment}/upload/"),
        ("batch", "en", f"/batches/{batch}/"),
        ("annotation", "en", f"/events/{draft.event_id}/"),
        ("sighting", "en", f"/sightings/{exchange['named'].pk}/"),
        ("browse", "en", "/sightings/"),
        ("map", "en", "/map/"),
        ("browse-grid-zh-hans", "zh-hans", "/sightings/?view=grid"),
        ("annotation-ru", "ru", f"/events/{draft.event_id}/"),
        ("survey", "en", "/analysis/survey/"),
        ("individual-ru", "ru", f"/individuals/{exchange['individual'].pk}/"),
    ]


def weigh(page, url: str) -> dict[str, list[int]]:
    """Bytes of script and style a cold visit to url loads: [files, transferred, decoded, gzip]."""
    loaded = []

    def note(response) -> None:
        loaded.append(response)

    page.on("response", note)
    page.goto(url)
    page.wait_for_load_state("networkidle")
    page.remove_listener("response", note)
    weight = {"script": [0, 0, 0, 0], "stylesheet": [0, 0, 0, 0]}
    for response in loaded:
        kind = response.request.resource_type
        if kind in weight:
            body = response.body()
            sizes = response.request.sizes()
            # WhiteNoise serves the gzip (or Brotli) copy collectstatic makes; the test server
            # sends files as they are, so "gzip" says what production sends.
            for i, value in enumerate([1, sizes["responseBodySize"], len(body),
                                       len(gzip.compress(body, 9))]):  # fmt: skip
                weight[kind][i] += value
    return weight


def save_png(page, path: Path) -> None:
    """The window as a small PNG: 256 colours lose little on a page, and save most bytes."""
    page.screenshot(path=path)
    with Image.open(path) as shot:
        small = shot.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT, dither=0)
    small.save(path, optimize=True)


def table(rows: list[tuple[str, dict]]) -> str:
    lines = ["| page | JS files | JS transferred | JS decoded | JS gzip | CSS files | "
             "CSS transferred | CSS decoded | CSS gzip |", "|" + " --- |" * 9]  # fmt: skip
    for name, weight in rows:
        js, css = weight["script"], weight["stylesheet"]
        cells = [js[0], *(f"{b / 1000:.1f} kB" for b in js[1:])]
        cells += [css[0], *(f"{b / 1000:.1f} kB" for b in css[1:])]
        lines.append(f"| {name} | " + " | ".join(str(cell) for cell in cells) + " |")
    return "\n".join(lines)


@pytest.mark.django_db(transaction=True)
def test_the_main_pages_are_light_and_pictured(browser, live_server, exchange, tmp_path):
    folder = Path(os.environ.get("SCREENSHOTS_DIR") or tmp_path)
    rows = []
    for name, language, url in main_pages(exchange):
        context = browser.new_context(
            viewport=VIEWPORT, extra_http_headers={"Accept-Language": language}
        )
        page = context.new_page()
        page.route("**/tile.openstreetmap.org/**", lambda route: route.abort())  # offline
        log_in(page, live_server, "alice")
        # A first visit: nothing from the browser's cache.
        context.new_cdp_session(page).send("Network.setCacheDisabled", {"cacheDisabled": True})
        weight = weigh(page, live_server.url + url)
        if language == "en":
            rows.append((name, weight))
        save_png(page, folder / f"{name}.png")
        context.close()
    report = table(rows)
    print("\n" + report)
    (folder / "page-weight.md").write_text(report + "\n", encoding="utf-8")
    assert all(w["script"][2] + w["stylesheet"][2] < BUDGET_BYTES for _, w in rows), report
    assert sum(path.stat().st_size for path in folder.glob("*.png")) < 2_000_000
