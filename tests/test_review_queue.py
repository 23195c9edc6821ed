"""The review queue, what came back to uploaders, the counts, and the second opinion."""

from __future__ import annotations

import pytest

from sightings import classification
from sightings.models import Membership, Sighting

from .test_events import shoot
from .test_sharing import named


@pytest.fixture
def li(django_user_model, cn_team):
    """Reviewer of the Chinese team; may name too."""
    user = django_user_model.objects.create_user("li", password="password")
    Membership.objects.create(user=user, team=cn_team, role=Membership.Role.REVIEWER)
    return user


@pytest.fixture
def wei(django_user_model, cn_team):
    """A second reviewer of the Chinese team."""
    user = django_user_model.objects.create_user("wei", password="password")
    Membership.objects.create(user=user, team=cn_team, role=Membership.Role.REVIEWER)
    return user


@pytest.fixture
def waiting(cn_deployment, alice) -> list[Sighting]:
    """Three events named by Alice: a boar, a tiger, a deer, and a fourth left unnamed."""
    images = shoot(
        cn_deployment, alice, "2009:04:21 00:40:00", "2009:04:21 02:40:00",
        "2009:04:21 04:40:00", "2009:04:21 06:40:00",
    )  # fmt: skip
    drafts = [Sighting.objects.get(event=image.event_id) for image in images]
    return [
        named(draft, species, alice)
        for draft, species in zip(drafts, ["Wild boar", "Amur tiger", "Sika deer"], strict=False)
    ]


def decide(client, sightings, status, comment="", versions=None):
    data = {"status": status, "comment": comment, "sighting": [s.pk for s in sightings]}
    for s in sightings:
        data[f"version-{s.pk}"] = (versions or {}).get(s.pk, s.version)
    return client.post("/review/decide/", data, follow=True)


def test_the_queue_lists_named_sightings_waiting_oldest_first(client, li, waiting):
    client.force_login(li)
    page = client.get("/review/").content.decode()
    assert "3 sightings to review" in page
    boar, tiger, deer = (page.index(f'id="review-{s.pk}"') for s in waiting)
    assert boar < tiger < deer
    # The event's images, large: previews through the media view.
    image = waiting[0].event.media.get()
    assert f"/media/{image.pk}/preview/" in page


def test_sensitive_species_first_on_request(client, li, waiting):
    client.force_login(li)
    page = client.get("/review/?sensitive_first=on").content.decode()
    tiger, boar = (page.index(f'id="review-{s.pk}"') for s in (waiting[1], waiting[0]))
    assert tiger < boar


def test_the_queue_filters_by_species(client, li, waiting):
    client.force_login(li)
    page = client.get(f"/review/?species={waiting[2].species_id}").content.decode()
    assert f'id="review-{waiting[2].pk}"' in page
    assert f'id="review-{waiting[0].pk}"' not in page


def test_the_queue_is_for_reviewers_only(client, alice, charlie, waiting):
    for user in (alice, charlie):
        client.force_login(user)
        assert client.get("/review/").status_code == 403


def test_another_teams_reviewer_sees_none_of_it_and_cannot_decide(client, boris, waiting):
    client.force_login(boris)
    page = client.get("/review/").content.decode()
    assert "0 sightings to review" in page and 'id="review-' not in page
    assert decide(client, waiting, "approved").status_code == 403
    assert not Sighting.objects.filter(review_status="approved").exists()


def test_several_are_decided_together_and_refusals_are_reported(client, li, waiting):
    boar, tiger, deer = waiting
    classification.classify(
        Sighting.objects.get(pk=deer.pk), deer.version, classification.Naming(deer.species), li
    )  # renamed since the reviewer looked: a conflict
    client.force_login(li)
    page = decide(client, waiting, "approved").content.decode()
    assert "2 sightings decided" in page
    assert "was changed after you opened it" in page
    statuses = dict(
        Sighting.objects.filter(species__isnull=False).values_list("pk", "review_status")
    )
    assert statuses == {boar.pk: "approved", tiger.pk: "approved", deer.pk: "pending"}
    assert Sighting.objects.get(pk=boar.pk).changes.last().changed_by == li


def test_what_was_decided_meanwhile_is_reported(client, li, wei, waiting):
    boar = waiting[0]
    classification.review(boar, "rejected", wei, boar.version)
    client.force_login(li)
    page = decide(client, waiting[:2], "approved").content.decode()
    assert "1 sighting no longer waits for your review" in page
    assert "1 sighting decided" in page


def test_returning_needs_a_comment(client, li, waiting):
    client.force_login(li)
    page = decide(client, waiting[:1], "returned").content.decode()
    assert "Say what to fix" in page
    assert Sighting.objects.get(pk=waiting[0].pk).review_status == "pending"


def test_returned_round_trip(client, alice, li, waiting):
    boar = waiting[0]
    client.force_login(li)
    decide(client, [boar], "returned", "the tusks say it is a boar, but look again")
    client.force_login(alice)
    page = client.get("/returned/").content.decode()
    assert "the tusks say it is a boar, but look again" in page and "li" in page
    assert f"/events/{boar.event_id}/" in page
    assert "1 returned to you" in client.get("/").content.decode()
    # The fix, on the event page as ever, sends it back to the queue.
    boar = Sighting.objects.get(pk=boar.pk)
    client.post(f"/sightings/{boar.pk}/name/", {"species": "Sika deer", "version": boar.version})
    assert Sighting.objects.get(pk=boar.pk).review_status == "pending"
    assert "Sika deer" not in client.get("/returned/").content.decode()
    client.force_login(li)
    assert f'id="review-{boar.pk}"' in client.get("/review/").content.decode()


def test_an_uploader_sees_only_what_came_back_to_them(
    client, django_user_model, cn_team, li, waiting
):
    other = django_user_model.objects.create_user("other")
    Membership.objects.create(user=other, team=cn_team, role=Membership.Role.UPLOADER)
    classification.review(waiting[0], "returned", li, waiting[0].version, "look again")
    client.force_login(other)
    page = client.get("/returned/").content.decode()
    assert "look again" not in page and "Nothing came back to you" in page


def test_counts_in_the_navigation_and_on_the_home_page(client, alice, li, waiting):
    client.force_login(li)
    home = client.get("/").content.decode()
    assert "3 to review" in home
    classification.review(waiting[0], "returned", li, waiting[0].version, "look again")
    client.force_login(alice)
    page = client.get("/sightings/").content.decode()
    assert "1 returned to you" in page and "to review" not in page


def test_counts_cost_one_query_each(rf, alice, li, waiting, django_assert_num_queries):
    from sightings.reviewing import Counts

    request = rf.get("/")
    request.user = li
    counts = Counts(request)
    with django_assert_num_queries(3):  # the roles, then one count each
        assert (counts.to_review, counts.returned) == (3, 0)
    with django_assert_num_queries(0):
        assert counts.to_review == 3


def test_no_counts_for_visitors(client):
    assert client.get("/login/").context.get("review_counts") is None


@pytest.fixture
def second_opinion(cn_team):
    cn_team.second_opinion = True
    cn_team.save()


def test_a_tiger_named_by_its_reviewer_needs_another(
    client, li, wei, cn_deployment, alice, second_opinion
):
    [image] = shoot(cn_deployment, alice, "2009:04:21 00:40:00")
    tiger = named(Sighting.objects.get(event=image.event_id), "Amur tiger", li)
    with pytest.raises(classification.Refused, match="second opinion"):
        classification.review(tiger, "approved", li, tiger.version)
    client.force_login(li)
    page = client.get("/review/").content.decode()
    assert "your team asks another reviewer to approve it" in page
    assert "second opinion" in decide(client, [tiger], "approved").content.decode()
    # Returning or rejecting it stays open to them; approving is for the other reviewer.
    client.force_login(wei)
    decide(client, [tiger], "approved")
    assert Sighting.objects.get(pk=tiger.pk).review_status == "approved"


def test_without_a_second_opinion_or_for_other_species_the_namer_may_approve(
    li, cn_deployment, alice, cn_team
):
    images = shoot(cn_deployment, alice, "2009:04:21 00:40:00", "2009:04:21 02:40:00")
    tiger, boar = (
        named(Sighting.objects.get(event=image.event_id), species, li)
        for image, species in zip(images, ["Amur tiger", "Wild boar"], strict=True)
    )
    classification.review(tiger, "approved", li, tiger.version)
    cn_team.second_opinion = True
    cn_team.save()
    classification.review(boar, "approved", li, boar.version)
    assert set(Sighting.objects.values_list("review_status", flat=True)) == {"approved"}
