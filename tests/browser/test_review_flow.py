from __future__ import annotations

import pytest

from sightings.models import Membership, Sighting

from ..test_events import shoot
from .conftest import log_in


@pytest.fixture
def as_user(browser, live_server):
    """A page of its own for each person: their own cookies, as on their own machine."""
    contexts = []

    def log_in_as(username: str):
        contexts.append(browser.new_context(locale="en-US"))
        page = contexts[-1].new_page()
        page.set_default_timeout(20_000)
        log_in(page, live_server, username)
        return page

    yield log_in_as
    for context in contexts:
        context.close()


def status(sighting: Sighting) -> str:
    return Sighting.objects.get(pk=sighting.pk).review_status


@pytest.mark.django_db(transaction=True)
def test_returned_fixed_and_approved_by_a_second_reviewer(
    as_user, live_server, catalogue, django_user_model, alice, boris, cn_team, cn_deployment
):
    cn_team.second_opinion = True
    cn_team.save()
    for name in ("reviewer-li", "reviewer-wei"):
        user = django_user_model.objects.create_user(name, password="password")
        Membership.objects.create(user=user, team=cn_team, role=Membership.Role.REVIEWER)
    [image] = shoot(cn_deployment, alice, "2009:04:21 00:40:00")
    sighting = Sighting.objects.get(event=image.event_id)

    # The uploader names the event.
    uploader = as_user("alice")
    uploader.goto(f"{live_server.url}/events/{image.event_id}/")
    uploader.fill(f"#s{sighting.pk}_species", "Amur leopard")
    uploader.press(f"#s{sighting.pk}_species", "Enter")
    uploader.wait_for_selector("text=That was the last event.")

    # A reviewer returns it from the queue, by keyboard, with a comment.
    li = as_user("reviewer-li")
    assert "1 to review" in li.text_content(".mainnav")
    li.goto(f"{live_server.url}/review/")
    li.keyboard.press("r")  # no comment yet: the comment box opens
    li.keyboard.type("Stripes, not rosettes: a tiger")
    li.keyboard.press("Enter")
    li.wait_for_selector("text=1 sighting decided.")
    assert status(sighting) == "returned"

    # The uploader finds it returned, with the comment, and fixes it from there.
    uploader.goto(f"{live_server.url}/")
    assert "1 returned to you" in uploader.text_content("#review-notes")
    uploader.click("#review-notes a")
    assert "Stripes, not rosettes: a tiger" in uploader.text_content("#returned")
    uploader.click("#returned a.btn")  # "Fix it"
    uploader.wait_for_url(f"**/events/{image.event_id}/")
    uploader.fill(f"#s{sighting.pk}_species", "Amur tiger")
    uploader.press(f"#s{sighting.pk}_species", "Enter")
    uploader.wait_for_selector("text=That was the last event.")
    assert status(sighting) == "pending"

    # The other team does not see it yet.
    other = as_user("boris")
    response = other.goto(f"{live_server.url}/sightings/{sighting.pk}/")
    assert response.status == 403

    # A second reviewer approves the tiger.
    wei = as_user("reviewer-wei")
    wei.goto(f"{live_server.url}/review/")
    assert "Amur tiger" in wei.text_content(".review-card")
    wei.keyboard.press("a")
    wei.wait_for_selector("text=1 sighting decided.")
    assert status(sighting) == "approved"
    assert "Nothing waits for your review." in wei.text_content("main")

    # Now the other team sees it, with its history: who named, returned and approved it.
    response = other.goto(f"{live_server.url}/sightings/{sighting.pk}/")
    assert response.status == 200
    history = other.text_content("#history")
    assert "alice" in history and "reviewer-li" in history and "reviewer-wei" in history
