from __future__ import annotations

import os

import pytest
from django.contrib.auth import get_user_model

from sightings.models import Membership, PendingGrouping

from ..test_events import partition, shoot
from .conftest import log_in
from .test_content_security_policy import watch

SCREENSHOTS = os.environ.get("SCREENSHOTS")  # a folder, to look at the pages


def _shot(page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=f"{SCREENSHOTS}/{name}.png", full_page=True)


@pytest.mark.django_db(transaction=True)
def test_a_team_admin_changes_the_gap_and_sees_the_events_worked_out_again(
    page, live_server, cn_team, cn_deployment, alice, celery_worker
):
    admin = get_user_model().objects.create_user("cn-admin", password="password")
    Membership.objects.create(user=admin, team=cn_team, role=Membership.Role.ADMIN)
    shoot(cn_deployment, alice, "2009:04:21 00:40:00", "2009:04:21 00:41:30")
    problems = watch(page)
    log_in(page, live_server, "cn-admin")
    page.click(".mainnav a[href='/teams/']")
    page.click(f"a[href='/teams/{cn_team.pk}/']")
    _shot(page, "team")
    page.click(f"#deployment-{cn_deployment.pk} a:has-text('Edit')")
    _shot(page, "deployment")
    page.fill("#id_event_gap_seconds", "120")
    page.click("button:has-text('Save')")
    page.wait_for_url(f"{live_server.url}/teams/{cn_team.pk}/")
    assert "Capture times and events are being worked out again." in page.text_content("main")
    # Pending or done by the time the page is shown: the worker may be quick.
    page.wait_for_selector(f"#deployment-{cn_deployment.pk} .badge-ok", timeout=60_000)
    assert len(partition(cn_deployment)) == 1
    assert problems == []


@pytest.mark.django_db(transaction=True)
def test_the_team_page_says_when_a_regrouping_is_done_without_a_reload(
    page, live_server, cn_team, cn_deployment
):
    admin = get_user_model().objects.create_user("cn-admin", password="password")
    Membership.objects.create(user=admin, team=cn_team, role=Membership.Role.ADMIN)
    # Asked for, as a deployment change does, and not yet done.
    pending = PendingGrouping.objects.create(deployment=cn_deployment, everything=True)
    problems = watch(page)
    log_in(page, live_server, "cn-admin")
    page.goto(f"{live_server.url}/teams/{cn_team.pk}/")
    badge = f"#deployment-{cn_deployment.pk} .badge"
    assert page.text_content(badge).strip() == "being worked out again"
    _shot(page, "team-pending")
    pending.delete()  # as the worker does when it is done
    page.wait_for_selector(f"{badge}.badge-ok:has-text('events worked out again')")
    _shot(page, "team-done")
    assert problems == []
