"""The key pages run under the Content-Security-Policy with nothing refused."""

from __future__ import annotations

import pytest

from sightings.models import Individual, Sighting, Species

from ..test_events import shoot
from .conftest import log_in, watch


@pytest.fixture
def recorded(catalogue, alice, cn_deployment):
    """Two events of alice's team, the first named and approved, and a known tiger."""
    media = shoot(cn_deployment, alice, "2009:04:21 00:40:00", "2009:04:21 01:40:00")
    tiger = Species.objects.get(name_en="Amur tiger")
    Sighting.objects.filter(event=media[0].event_id).update(species=tiger, review_status="approved")
    Individual.objects.create(species=tiger, code="PT-CN-001", team=cn_deployment.location.team)
    return media


@pytest.mark.django_db(transaction=True)
def test_the_key_pages_break_no_rule_of_the_policy(page, live_server, recorded, cn_deployment):
    problems = watch(page)
    log_in(page, live_server, "alice")
    sighting = Sighting.objects.get(event=recorded[0].event_id)
    pages = {
        "home": "/",
        "browse": "/sightings/",
        "map": "/map/",
        "sighting": f"/sightings/{sighting.pk}/",
        "event": f"/events/{recorded[0].event_id}/",
        "upload": f"/deployments/{cn_deployment.pk}/upload/",
        "batch": f"/batches/{recorded[0].batch_id}/",
        "deployment": f"/deployments/{cn_deployment.pk}/",
        "media": f"/media/{recorded[0].pk}/",
        "individuals": "/individuals/",
        "record table": "/record-table/",
        "activity": f"/analysis/activity/?species={sighting.species_id}",
        "survey": "/analysis/survey/",
    }
    for name, path in pages.items():
        response = page.goto(live_server.url + path)
        assert response.status == 200, name
        page.wait_for_load_state("networkidle")
        assert problems == [], name
    # The maps drew their tiles: the tile server is allowed, and map.js ran.
    page.goto(f"{live_server.url}/map/")
    page.wait_for_selector("#map[data-points='1'] .leaflet-tile-loaded")
    page.goto(f"{live_server.url}/sightings/{sighting.pk}/")
    page.wait_for_selector("#mini-map .leaflet-tile-loaded")
    assert problems == []


@pytest.mark.django_db(transaction=True)
def test_the_admin_breaks_no_rule_of_the_policy(page, live_server, site_admin, cn_deployment):
    problems = watch(page)
    log_in(page, live_server, "site-admin")
    for path in [
        "/admin/",
        "/admin/sightings/deployment/",
        f"/admin/sightings/deployment/{cn_deployment.pk}/change/",
        "/admin/sightings/location/add/",
    ]:
        response = page.goto(live_server.url + path)
        assert response.status == 200, path
        page.wait_for_load_state("networkidle")
        assert problems == [], path
    # The change form's scripts ran: the date widget's calendar opens.
    page.goto(f"{live_server.url}/admin/sightings/deployment/{cn_deployment.pk}/change/")
    page.click("#calendarlink0")
    page.wait_for_selector("#calendarbox0", state="visible")
    assert problems == []


@pytest.mark.django_db(transaction=True)
def test_the_language_menu_switches_without_inline_script(page, live_server, alice):
    problems = watch(page)
    log_in(page, live_server, "alice")
    assert page.get_attribute("html", "lang") == "en"
    page.select_option("#language", "ru")  # no button: the menu's script submits it
    page.wait_for_selector("html[lang='ru']")
    assert page.url == f"{live_server.url}/"
    assert problems == []


@pytest.mark.django_db(transaction=True)
def test_an_inline_handler_is_refused_and_reported(page, live_server, alice):
    # The watch itself: what the other tests look for does show up.
    problems = watch(page)
    log_in(page, live_server, "alice")
    page.evaluate(
        """document.body.insertAdjacentHTML(
            "beforeend", '<img src="/static/css/app.css" onerror="window.ran = true">')"""
    )
    page.wait_for_timeout(500)
    assert page.evaluate("window.ran") is None
    assert len(problems) == 1 and "inline event handler" in problems[0]
