from __future__ import annotations

import pytest

from sightings.models import Sighting, Species

from ..test_events import shoot
from .conftest import log_in


@pytest.fixture
def pooled(catalogue, alice, boris, cn_deployment, ru_deployment):
    """A leopard cat at HC-07 (two images) and a sika deer at KP-12, both approved."""
    cat = shoot(cn_deployment, alice, "2009:04:21 00:40:00", "2009:04:21 00:40:20")
    deer = shoot(ru_deployment, boris, "2021:04:11 20:43:09")
    for media, name in ((cat[0], "Leopard cat"), (deer[0], "Sika deer")):
        Sighting.objects.filter(event=media.event_id).update(
            species=Species.objects.get(name_en=name), review_status="approved"
        )
    return {
        "cat": Sighting.objects.get(event=cat[0].event_id),
        "deer": Sighting.objects.get(event=deer[0].event_id),
    }


@pytest.mark.django_db(transaction=True)
def test_filtering_the_pooled_records(page, live_server, pooled):
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/sightings/")
    assert page.locator("#results tbody tr").count() == 2
    page.wait_for_selector("#result-count:has-text('2 sightings')")  # counted after the page
    # The species picker, from the keyboard: open it, search in any language, Enter picks.
    page.focus("details[data-picker]:has(#id_species_0) summary")
    page.keyboard.press("Enter")
    page.wait_for_selector("#id_species-search:focus")
    page.keyboard.type("sika")
    assert page.locator("#id_species_0").locator("xpath=ancestor::li").count() == 1
    visible = page.locator("details[data-picker]:has(#id_species_0) .options li:visible")
    assert visible.count() == 1 and "Sika deer" in visible.first.text_content()
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    page.click("#filters button[type=submit]")
    page.wait_for_url("**/sightings/?**species=*")
    rows = page.locator("#results tbody tr")
    assert rows.count() == 1 and "Sika deer" in rows.first.text_content()
    chip = page.locator(".chips a.chip", has_text="Sika deer")
    assert chip.count() == 1
    # The filtered view is a link others can open.
    shared = page.url
    page.goto(f"{live_server.url}/sightings/?q=豹猫")
    assert "Leopard cat" in page.locator("#results tbody").text_content()
    page.goto(shared)
    assert page.locator("#results tbody tr").count() == 1
    page.click(".chips a.chip")  # dropping the filter shows both again
    assert page.locator("#results tbody tr").count() == 2


@pytest.mark.django_db(transaction=True)
def test_the_map_shows_the_points_and_a_grid_without_tiles(page, live_server, pooled):
    page.route("**/tile.openstreetmap.org/**", lambda route: route.abort())  # offline
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/map/")
    page.wait_for_selector("#map[data-points='2']")
    page.wait_for_selector("#map.grid-map")
    assert page.locator(".leaflet-marker-icon").count() >= 1
    assert "Coordinate grid" in page.text_content(".grid-legend")
    page.click(".leaflet-marker-icon[title='KP-12']")
    page.wait_for_selector(".leaflet-popup-content:has-text('Sika deer: 1')")
    page.click(".leaflet-popup-content a")  # back to the browser, filtered to the station
    page.wait_for_url("**/sightings/?location=*")
    assert page.locator("#results tbody tr").count() == 1


@pytest.mark.django_db(transaction=True)
def test_opening_a_sighting(page, live_server, pooled):
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/sightings/")
    page.click(f"a[href='/sightings/{pooled['cat'].pk}/']")
    page.wait_for_url(f"**/sightings/{pooled['cat'].pk}/")
    assert "Leopard cat" in page.text_content("h1")
    assert "2009-04-21 00:40:00 +0800" in page.text_content("#local-time")
    first = page.get_attribute("#viewer-image", "src")
    page.keyboard.press(".")  # the event's second image
    assert page.get_attribute("#viewer-image", "src") != first
    page.wait_for_selector("#mini-map .leaflet-marker-icon")
