"""The survey page's relative abundance map in a real browser: a circle per station for the
chosen species, under the Content-Security-Policy, with nothing refused."""

from __future__ import annotations

import datetime as dt

import pytest

from sightings.models import Deployment, Event, Location, Sighting, Species

from .conftest import log_in, watch


@pytest.fixture
def detections(catalogue, alice, cn_deployment, ru_deployment) -> None:
    """Approved independent detections at a station on each side of the border: tigers at
    both, a wild boar at the Chinese one; the Russian station protected."""
    Location.objects.filter(pk=ru_deployment.location_id).update(has_sensitive_species=True)
    Deployment.objects.filter(pk=ru_deployment.pk).update(
        end_at=dt.datetime(2021, 6, 1, tzinfo=dt.UTC)
    )
    tiger = Species.objects.get(name_en="Amur tiger")
    boar = Species.objects.get(name_en="Wild boar")
    for deployment, when, species in [
        (cn_deployment, dt.datetime(2009, 4, 21, 2, tzinfo=dt.UTC), tiger),
        (cn_deployment, dt.datetime(2009, 4, 25, 2, tzinfo=dt.UTC), boar),
        (ru_deployment, dt.datetime(2021, 4, 11, 20, tzinfo=dt.UTC), tiger),
    ]:
        event = Event.objects.create(deployment=deployment, start_at=when, end_at=when)
        Sighting.objects.create(
            event=event, species=species, review_status="approved", is_independent=True,
            **event.placement(),
        )  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_the_rai_map_draws_a_circle_per_station_without_breaking_the_policy(
    page, live_server, detections
):
    problems = watch(page)
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/analysis/survey/")
    page.wait_for_selector("#rai-map[data-points='2'] .leaflet-tile-loaded")
    circles = page.locator("#rai-map .leaflet-overlay-pane path")
    assert circles.count() == 2
    # The tiger, detected at both: two filled circles, one dashed (the protected station).
    assert page.locator("#rai-map path[fill='none']").count() == 0
    assert page.locator("#rai-map path[stroke-dasharray]").count() == 1
    # The wild boar, detected at the Chinese station only: the Russian one is hollow.
    page.select_option("#rai-species", label="Wild boar (Sus scrofa)")
    page.wait_for_selector("#rai-map[data-shown='Sus scrofa']")
    assert page.locator("#rai-map path[fill='none']").count() == 1
    assert "RAI per 100 trap nights" in page.locator(".rai-legend").inner_text()
    circles.first.click(force=True)
    assert page.locator(".leaflet-popup-content strong").inner_text() in {"HC-07", "KP-12"}
    page.wait_for_load_state("networkidle")
    assert problems == []
