"""An individual's page in a real browser: its stations on the map, under the
Content-Security-Policy, with nothing refused."""

from __future__ import annotations

import datetime as dt

import pytest

from sightings.models import Event, Individual, Location, Sighting, Species

from .conftest import log_in, watch


@pytest.fixture
def tiger(catalogue, alice, cn_team, cn_deployment, ru_deployment) -> Individual:
    """A tiger approved at a station on each side of the border; the Russian one protected."""
    Location.objects.filter(pk=ru_deployment.location_id).update(has_sensitive_species=True)
    tiger = Individual.objects.create(
        species=Species.objects.get(name_en="Amur tiger"), code="PT-CN-001", team=cn_team
    )
    for deployment, when in [
        (cn_deployment, dt.datetime(2009, 4, 21, 2, tzinfo=dt.UTC)),
        (ru_deployment, dt.datetime(2021, 4, 11, 20, tzinfo=dt.UTC)),
    ]:
        event = Event.objects.create(deployment=deployment, start_at=when, end_at=when)
        Sighting.objects.create(
            event=event, species=tiger.species, individual=tiger, review_status="approved",
            **event.placement(),
        )  # fmt: skip
    return tiger


@pytest.mark.django_db(transaction=True)
def test_the_individuals_map_shows_its_stations_without_breaking_the_policy(
    page, live_server, tiger
):
    problems = watch(page)
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/individuals/{tiger.pk}/")
    page.wait_for_selector("#individual-map[data-points='2'] .leaflet-tile-loaded")
    assert page.locator("#individual-map .leaflet-marker-icon").count() == 2
    # The protected station (the other team's) is drawn with a circle: a place on the grid.
    assert page.locator("#individual-map .leaflet-overlay-pane path").count() == 1
    assert page.locator(".detection-axis circle.mark").count() == 2
    page.locator("#individual-map .leaflet-marker-icon").first.click()
    assert page.locator(".leaflet-popup-content strong").inner_text() in {"HC-07", "KP-12"}
    page.wait_for_load_state("networkidle")
    assert problems == []
