from __future__ import annotations

import os

import pytest

from sightings.models import Membership, Sighting, Species

from ..test_events import shoot
from .conftest import log_in


@pytest.mark.django_db(transaction=True)
def test_a_team_admin_keeps_a_station_to_the_team(
    page, live_server, catalogue, alice, boris, cn_team, cn_deployment, ru_team, django_user_model
):
    admin = django_user_model.objects.create_user("wang", password="password")
    Membership.objects.create(user=admin, team=cn_team, role=Membership.Role.ADMIN)
    [image] = shoot(cn_deployment, alice, "2009:04:21 00:40:00")
    Sighting.objects.filter(event=image.event_id).update(
        species=Species.objects.get(name_en="Leopard cat"), review_status="approved"
    )
    log_in(page, live_server, "wang")
    page.click("text=Sharing rules of Hunchun")
    page.wait_for_url(f"**/teams/{cn_team.pk}/sharing/")
    page.fill("#id_embargo_months", "3")
    page.get_by_label("Land of the Leopard").check()
    page.get_by_label("HC-07").uncheck()
    if os.environ.get("SCREENSHOTS"):
        page.screenshot(path=f"{os.environ['SCREENSHOTS']}/sharing.png", full_page=True)
    page.click("#sharing-form button[type=submit]")
    page.wait_for_selector("text=The sharing rules are saved.")
    assert page.input_value("#id_embargo_months") == "3"
    assert page.get_by_label("Land of the Leopard").is_checked()
    assert not page.get_by_label("HC-07").is_checked()
    # Boris's team was chosen, but the station is kept to the team: he sees nothing.
    page.context.clear_cookies()
    log_in(page, live_server, "boris")
    page.goto(f"{live_server.url}/sightings/")
    assert "No sightings match." in page.text_content("#results tbody")
