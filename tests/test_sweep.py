"""The sweep sends again what lost its message, and only that (sightings/sweep.py)."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import subprocess
import sys

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sightings import events, workers
from sightings.models import Media, PendingGrouping, PendingIndependence, Species, WorkerHeartbeat
from sightings.sweep import send_lost_work

from .conftest import BASE_DIR, _database_url, wait_until
from .test_events import camera_jpeg, upload

NOW = timezone.now()
MINUTE = dt.timedelta(minutes=1)


def ago(minutes: float) -> dt.datetime:
    return NOW - minutes * MINUTE


@pytest.fixture
def card(cn_deployment, alice) -> list[Media]:
    """Four images of a card, queued."""
    times = [f"2009:04:21 0{hour}:40:00" for hour in range(4)]
    return upload(cn_deployment, alice, *times)


def set_times(media: Media, **times) -> None:
    Media.objects.filter(pk=media.pk).update(**times)


def resent(*media: Media) -> set[int]:
    """Which of these images the sweep just sent (it marks them sent at NOW)."""
    return {item.pk for item in media if Media.objects.get(pk=item.pk).sent_at == NOW}


def test_with_nothing_to_do_it_sends_nothing_in_a_few_queries(card):
    for item in card:
        set_times(item, state="processed", sent_at=ago(30), started_at=ago(29))
    with CaptureQueriesContext(connection) as queries:
        assert set(send_lost_work(NOW).values()) == {0}
    assert len(queries) <= 6


def test_images_the_broker_never_took_are_sent(card):
    first, *others = card
    set_times(first, sent_at=None)
    send_lost_work(NOW)
    assert resent(*card) == {first.pk}


def test_images_sent_before_ones_workers_started_are_sent_again(card):
    # Messages come out of the queue in the order they went in: a worker started the
    # image sent at -3 min, so the one sent at -5 min lost its message. The ones sent
    # just before it and after it are still waiting their turn.
    lost, started, waiting, fresh = card
    set_times(lost, sent_at=ago(5))
    set_times(started, sent_at=ago(3), started_at=ago(0.2), state="processing")
    set_times(waiting, sent_at=ago(3.2))
    set_times(fresh, sent_at=ago(1))
    send_lost_work(NOW)
    assert resent(*card) == {lost.pk}


def test_when_no_worker_started_anything_for_an_interval_the_queue_is_sent_again(card):
    # A purged queue, or a broker restarted without its data: every message is gone.
    old, older, *recent = card
    set_times(old, sent_at=ago(2))
    set_times(older, sent_at=ago(20))
    for item in recent:
        set_times(item, sent_at=ago(0.2))
    counts = send_lost_work(NOW)
    assert resent(*card) == {old.pk, older.pk}
    assert counts["queued media"] == 2


def test_images_a_worker_died_on_are_sent_again_after_the_time_limit(card, settings):
    dead, slow, *_ = card
    limit = settings.CELERY_TASK_TIME_LIMIT / 60
    set_times(dead, state="processing", sent_at=ago(60), started_at=ago(limit + 2))
    set_times(slow, state="processing", sent_at=ago(60), started_at=ago(limit - 1))
    for item in card[2:]:
        set_times(item, state="processed", started_at=ago(0.1))
    assert send_lost_work(NOW)["interrupted media"] == 1
    assert resent(*card) == {dead.pk}


def test_waiting_requests_are_sent_again(cn_deployment, django_capture_on_commit_callbacks):
    location, tiger = cn_deployment.location, Species.objects.get(name_en="Amur tiger")
    with django_capture_on_commit_callbacks():
        events.request_grouping(cn_deployment.pk)
        events.request_grouping(cn_deployment.pk, everything=True)
    PendingGrouping.objects.filter(everything=False).update(sent_at=ago(2))
    PendingIndependence.objects.create(location=location, species=tiger, sent_at=None)
    counts = send_lost_work(NOW)
    assert (counts["grouping requests"], counts["independence requests"]) == (1, 1)
    assert PendingGrouping.objects.get(everything=False).sent_at == NOW
    assert PendingGrouping.objects.get(everything=True).sent_at != NOW  # its task is on its way
    assert PendingIndependence.objects.get().sent_at == NOW


@pytest.mark.django_db(transaction=True)
def test_a_broker_that_refuses_leaves_them_unsent_for_the_next_sweep(
    catalogue, cn_deployment, alice
):
    card = upload(cn_deployment, alice, "2009:04:21 00:40:00", "2009:04:21 01:40:00")
    Media.objects.update(sent_at=None)
    result = subprocess.run(
        [sys.executable, "manage.py", "sweep"], cwd=BASE_DIR, capture_output=True, text=True,
        env=os.environ | {"DATABASE_URL": _database_url(),
                          "CELERY_BROKER_URL": "redis://127.0.0.1:1/0"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "queued media: 0" in result.stdout
    assert [Media.objects.get(pk=item.pk).sent_at for item in card] == [None, None]


@pytest.mark.django_db(transaction=True)
def test_a_lost_image_is_processed_after_the_sweep(catalogue, cn_deployment, alice, celery_worker):
    # Stored and queued, but its message never reached the broker: nothing else would ever
    # process it.
    batch = cn_deployment.batches.create(uploaded_by=alice)
    data = camera_jpeg("2009:04:21 00:40:00")
    sha256 = hashlib.sha256(data).hexdigest()
    image = Media.objects.create(
        batch=batch, deployment=cn_deployment, sha256=sha256, format="jpeg", file_size=len(data),
        file=default_storage.save(f"originals/{sha256}.jpg", ContentFile(data)),
        original_name="lost.jpg", sent_at=None,
    )  # fmt: skip
    send_lost_work()
    wait_until(lambda: Media.objects.get(pk=image.pk).event_id is not None, 60,
               celery_worker.text())  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_pages_say_when_no_worker_was_heard_from(
    client, catalogue, alice, cn_deployment, monkeypatch
):
    [image] = upload(cn_deployment, alice, "2009:04:21 00:40:00")
    client.force_login(alice)
    WorkerHeartbeat.objects.create(hostname="celery@gone", seen_at=ago(10))
    assert 'id="workers-silent"' in client.get("/").content.decode()
    assert client.get(f"/batches/{image.batch_id}/progress/").json()["workers_silent"] is True
    monkeypatch.setitem(workers._last_noted, "at", float("-inf"))  # none noted here yet
    workers.note("celery@here")
    assert 'id="workers-silent"' not in client.get("/").content.decode()
    assert client.get(f"/batches/{image.batch_id}/progress/").json()["workers_silent"] is False
