"""The daily review e-mail: to whom, how often, and turned off."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from sightings import classification
from sightings.models import Membership, NotificationSettings, Sighting

from .test_events import shoot
from .test_sharing import named


@pytest.fixture(autouse=True)
def _locmem(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def li(django_user_model, cn_team):
    user = django_user_model.objects.create_user("li", email="li@example.org")
    Membership.objects.create(user=user, team=cn_team, role=Membership.Role.REVIEWER)
    return user


@pytest.fixture
def waiting(cn_deployment, alice, li):
    alice.email = "alice@example.org"
    alice.save()
    images = shoot(cn_deployment, alice, "2009:04:21 00:40:00", "2009:04:21 02:40:00")
    boar, deer = (
        named(Sighting.objects.get(event=image.event_id), species, alice)
        for image, species in zip(images, ["Wild boar", "Sika deer"], strict=True)
    )
    classification.review(deer, "returned", li, deer.version, "look again")


def sent() -> dict[str, str]:
    return {message.to[0]: message.body for message in mail.outbox}


def test_each_person_is_told_what_waits_for_them(waiting):
    call_command("send_review_digests")
    bodies = sent()
    assert set(bodies) == {"li@example.org", "alice@example.org"}
    assert "1 sighting waits for your review" in bodies["li@example.org"]
    assert "/review/" in bodies["li@example.org"]
    assert "1 sighting came back to you from review" in bodies["alice@example.org"]
    assert "/account/notifications/" in bodies["alice@example.org"]


def test_at_most_one_a_day(waiting, li):
    call_command("send_review_digests")
    call_command("send_review_digests")
    assert len(mail.outbox) == 2
    a_day_ago = timezone.now() - dt.timedelta(days=1, minutes=1)
    NotificationSettings.objects.filter(user=li).update(digest_sent_at=a_day_ago)
    call_command("send_review_digests")
    assert [message.to for message in mail.outbox[2:]] == [["li@example.org"]]


def test_nothing_waiting_nothing_sent(li):
    call_command("send_review_digests")
    assert mail.outbox == []


def test_each_person_can_turn_it_off(client, waiting, alice):
    client.force_login(alice)
    page = client.get("/account/notifications/").content.decode()
    assert 'name="review_digest"' in page and "checked" in page
    client.post("/account/notifications/", {})
    assert not NotificationSettings.objects.get(user=alice).review_digest
    call_command("send_review_digests")
    assert set(sent()) == {"li@example.org"}


def test_the_beat_runs_it_through_celery(settings, waiting):
    from sightings.tasks import send_review_digests

    assert settings.CELERY_BEAT_SCHEDULE["review-digests"]["task"] == send_review_digests.name
    send_review_digests.apply()
    assert len(mail.outbox) == 2
