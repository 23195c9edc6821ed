from __future__ import annotations

import pytest

from sightings.models import Sighting

from ..test_events import shoot
from .conftest import log_in

TIMES = ["2009:04:21 00:40:00", "2009:04:21 01:40:00", "2009:04:21 02:40:00", "2009:04:21 03:40:00"]


@pytest.mark.django_db(transaction=True)
def test_a_run_of_events_is_named_by_keyboard_alone(
    page, live_server, catalogue, alice, cn_deployment
):
    media = shoot(cn_deployment, alice, *TIMES)
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/deployments/{cn_deployment.pk}/annotate/")
    page.wait_for_url(f"**/events/{media[0].event_id}/")

    page.keyboard.press("s")  # to the species field
    page.keyboard.type("东北虎")  # typed in Chinese
    page.keyboard.press("Enter")  # save, and on to the next event
    page.wait_for_url(f"**/events/{media[1].event_id}/")
    assert "Event 2 of 4" in page.text_content("h1")

    page.keyboard.press("b")  # blank
    page.wait_for_url(f"**/events/{media[2].event_id}/")
    page.keyboard.press("r")  # the last species again: the tiger
    page.wait_for_url(f"**/events/{media[3].event_id}/")
    page.keyboard.press("/")
    page.keyboard.type("wild boar")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=That was the last event.")
    page.keyboard.press("p")  # back one
    page.wait_for_url(f"**/events/{media[2].event_id}/")

    named = [Sighting.objects.get(event=item.event_id).species.name_en for item in media]
    assert named == ["Amur tiger", "Blank", "Amur tiger", "Wild boar"]
    assert set(
        Sighting.objects.values_list("classified_by__username", "classification_method")
    ) == {("alice", "human")}
