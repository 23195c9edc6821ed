from __future__ import annotations

import datetime as dt
import hashlib
import io
import itertools

import pytest
from celery import Celery
from django.core.files import File
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from sightings import events, folders, ingest, tasks
from sightings.models import Event, Media, PendingGrouping, Sighting, Species

from .conftest import TESTDATA
from .test_processing import add, process

_colours = itertools.count(1)


def camera_jpeg(taken: str) -> bytes:
    """A small JPEG as a camera writes it: DateTimeOriginal "YYYY:MM:DD hh:mm:ss"."""
    exif = Image.Exif()
    exif[0x010F] = "RECONYX"
    exif.get_ifd(0x8769)[0x9003] = taken
    buffer = io.BytesIO()
    colour = next(_colours)
    Image.new("RGB", (32, 24), (colour % 256, colour // 256, 7)).save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def upload(deployment, user, *times: str, folder: str = "") -> list[Media]:
    """One batch with an image per camera time, queued for processing."""
    batch = deployment.batches.create(uploaded_by=user)
    uploaded = []
    for taken in times:
        data = camera_jpeg(taken)
        file = File(io.BytesIO(data), name="x.jpg")
        sha256 = hashlib.sha256(data).hexdigest()
        media = ingest.add_file(batch, file, name=f"{taken}.jpg", folder=folder, sha256=sha256)
        uploaded.append(media)
    return uploaded


def shoot(deployment, user, *times: str, folder: str = "") -> list[Media]:
    """Upload one batch and process its images one by one in the order given."""
    return [process(media) for media in upload(deployment, user, *times, folder=folder)]


def partition(deployment) -> list[list[str]]:
    """The deployment's events as lists of camera times."""
    return [
        sorted(event.media.values_list("camera_time", flat=True))
        for event in deployment.events.order_by("start_at")
    ]


def test_images_closer_than_the_gap_form_one_event(cn_deployment, alice):
    shoot(cn_deployment, alice, "2009:04:21 00:40:00", "2009:04:21 00:40:59",
          "2009:04:21 00:41:58", "2009:04:21 00:42:58")  # fmt: skip
    # 59 s, 59 s, then exactly 60 s: not closer than the gap.
    assert partition(cn_deployment) == [
        ["2009-04-21T00:40:00", "2009-04-21T00:40:59", "2009-04-21T00:41:58"],
        ["2009-04-21T00:42:58"],
    ]
    first = cn_deployment.events.order_by("start_at").first()
    # Asia/Shanghai is UTC+8.
    assert first.start_at == dt.datetime(2009, 4, 20, 16, 40, tzinfo=dt.UTC)
    assert (first.end_at, first.media_count) == (
        dt.datetime(2009, 4, 20, 16, 41, 58, tzinfo=dt.UTC),
        3,
    )


TIMES = ["2009:04:28 17:47:00", "2009:04:28 17:47:40", "2009:04:28 17:49:20",
         "2009:04:28 17:50:10", "2009:04:28 17:52:00", "2009:04:28 17:52:30"]  # fmt: skip


@pytest.mark.parametrize(
    "order", [[0, 1, 2, 3, 4, 5], [5, 4, 3, 2, 1, 0], [0, 5, 2, 3, 1, 4], [4, 0, 1, 5, 3, 2]]
)
def test_events_do_not_depend_on_the_order_images_arrive_in(cn_deployment, alice, order):
    cn_deployment.event_gap_seconds = 90
    cn_deployment.save()
    # A card uploaded in two halves, in any order.
    shoot(cn_deployment, alice, *[TIMES[i] for i in order[:3]])
    shoot(cn_deployment, alice, *[TIMES[i] for i in order[3:]])
    # Gaps of 40, 100, 50, 110 and 30 s against a 90 s gap.
    assert partition(cn_deployment) == [
        ["2009-04-28T17:47:00", "2009-04-28T17:47:40"],
        ["2009-04-28T17:49:20", "2009-04-28T17:50:10"],
        ["2009-04-28T17:52:00", "2009-04-28T17:52:30"],
    ]
    assert Sighting.objects.filter(event__deployment=cn_deployment, species=None).count() == 3


def test_every_event_gets_one_draft_sighting(cn_deployment, alice):
    shoot(cn_deployment, alice, "2009:04:21 00:40:00", "2009:04:21 00:40:10", "2009:05:01 10:00:00")
    for event in cn_deployment.events.all():
        assert [(s.species, s.classification_method) for s in event.sightings.all()] == [(None, "")]


def test_an_image_between_two_events_merges_them_and_keeps_their_names(cn_deployment, alice):
    early, late = shoot(cn_deployment, alice, "2009:04:21 00:40:00", "2009:04:21 00:41:40")
    tiger = Species.objects.get(scientific_name="Panthera tigris altaica")
    Sighting.objects.filter(event=late.event_id).update(
        species=tiger, classification_method="human"
    )
    shoot(cn_deployment, alice, "2009:04:21 00:40:50")
    [event] = cn_deployment.events.all()
    assert event.media_count == 3
    assert [(s.species, s.classification_method) for s in event.sightings.all()] == [
        (tiger, "human")
    ]
    assert (
        not Event.objects.filter(pk__in=[early.event_id, late.event_id])
        .exclude(pk=event.pk)
        .exists()
    )


def test_a_card_processed_meanwhile_is_grouped_in_one_pass(cn_deployment, alice):
    card = upload(cn_deployment, alice, *[f"2009:04:21 0{hour}:40:00" for hour in range(6)])
    for media in card:
        tasks.process_media.apply(args=(media.pk,))
    # Processed, and asked once to be grouped; until then the batch is not done.
    assert PendingGrouping.objects.filter(deployment=cn_deployment).count() == 1
    assert not cn_deployment.events.exists()
    batch = card[0].batch
    assert batch.progress()["states"]["processed"] == 6
    assert not batch.progress()["done"]
    tasks.group_new_media.apply(args=(cn_deployment.pk,))
    assert len(partition(cn_deployment)) == 6
    assert Sighting.objects.filter(event__deployment=cn_deployment, species=None).count() == 6
    assert batch.progress()["done"]
    assert not PendingGrouping.objects.exists()


def refusing_app() -> Celery:
    """A real Celery app that sends to a broker that refuses: nothing listens on port 1.
    (The write URL: CELERY_BROKER_URL in the environment overrides an app's broker.)"""
    refusing = Celery(set_as_current=False)
    refusing.conf.broker_write_url = "redis://127.0.0.1:1/0"
    # Fail at once, without kombu's waits between attempts to connect.
    refusing.conf.task_publish_retry = False
    no_waits = {"interval_start": 0, "interval_step": 0, "interval_max": 0}
    refusing.conf.broker_transport_options = {"max_retries": 1, **no_waits}
    return refusing


def test_a_request_whose_task_the_broker_refused_is_sent_by_the_next(
    cn_deployment, django_capture_on_commit_callbacks
):
    @refusing_app().task(name="group", shared=False)
    def group(deployment_id: int) -> None:
        """Never runs: it cannot be sent."""

    pending = PendingGrouping.objects.filter(deployment=cn_deployment)
    PendingGrouping.objects.create(deployment=cn_deployment)
    # What asked for it (an upload, a worker's image) does not fail: the row says unsent.
    with django_capture_on_commit_callbacks(execute=True):
        tasks.send_on_commit(group, cn_deployment.pk, pending=pending)
    assert pending.get().sent_at is None
    # The next image's request sends it again (so does the sweep).
    with django_capture_on_commit_callbacks() as callbacks:
        events.request_grouping(cn_deployment.pk)
    assert pending.count() == 1
    assert len(callbacks) == 1


def queries_to_group(deployment, user, times: list[str]) -> int:
    for media in upload(deployment, user, *times):
        tasks.process_media.apply(args=(media.pk,))
    with CaptureQueriesContext(connection) as queries:
        tasks.group_new_media.apply(args=(deployment.pk,))
    return len(queries)


def test_grouping_costs_no_more_queries_for_a_bigger_card(cn_deployment, alice):
    queries_to_group(cn_deployment, alice, ["2009:04:21 00:39:00"])
    # Each card extends the last event and starts new ones after it.
    two = queries_to_group(cn_deployment, alice, ["2009:04:21 00:39:30", "2009:04:21 00:50:30"])
    times = [f"2009:04:2{day} {hour:02}:51:0{second}" for day in (1, 2) for hour in range(10)
             for second in (0, 5)]  # fmt: skip
    forty = queries_to_group(cn_deployment, alice, times)
    assert len(partition(cn_deployment)) == 21
    assert forty == two


def test_an_image_delivered_again_after_its_worker_died_is_grouped(
    cn_deployment, alice, django_capture_on_commit_callbacks
):
    [media] = upload(cn_deployment, alice, "2009:04:21 00:40:00")
    # Saved as processed and marked as waiting, but the worker died before the grouping
    # task was sent: the message comes back to a worker.
    with django_capture_on_commit_callbacks(execute=False):
        tasks.process_media.apply(args=(media.pk,))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        tasks.process_media.apply(args=(media.pk,))
    assert len(callbacks) == 1  # the grouping task, sent again
    tasks.group_new_media.apply(args=(cn_deployment.pk,))
    assert partition(cn_deployment) == [["2009-04-21T00:40:00"]]
    # An image already grouped asks for nothing when delivered again.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        tasks.process_media.apply(args=(media.pk,))
    assert callbacks == []


def test_grouping_uses_the_deployment_clock_as_it_is_when_grouping(cn_deployment, alice):
    [media] = upload(cn_deployment, alice, "2009:04:21 00:40:00")
    tasks.process_media.apply(args=(media.pk,))
    # The zone is corrected after the worker read the deployment, before the grouping.
    type(cn_deployment).objects.filter(pk=cn_deployment.pk).update(time_zone="Asia/Vladivostok")
    tasks.group_new_media.apply(args=(cn_deployment.pk,))
    [event] = cn_deployment.events.all()
    # Vladivostok was UTC+11 in April 2009.
    assert event.start_at == dt.datetime(2009, 4, 20, 13, 40, tzinfo=dt.UTC)
    media.refresh_from_db()
    assert media.captured_at == event.start_at


def test_images_without_capture_time_stay_out_of_events(cn_deployment, alice):
    no_time = TESTDATA / "camera-trap/camtrapR/full_size_for_ocr/StationA/mousedeer.JPG"
    media = process(add(cn_deployment, alice, no_time))
    assert (media.state, media.event) == ("processed", None)
    assert not cn_deployment.events.exists()


def test_a_new_gap_regroups_the_deployment(cn_deployment, alice):
    shoot(cn_deployment, alice, "2009:04:21 00:40:00", "2009:04:21 00:41:30", "2009:04:21 00:43:00")
    assert len(partition(cn_deployment)) == 3
    cn_deployment.event_gap_seconds = 120
    cn_deployment.save()
    tasks.regroup_deployment.apply(args=(cn_deployment.pk,))
    assert partition(cn_deployment) == [
        ["2009-04-21T00:40:00", "2009-04-21T00:41:30", "2009-04-21T00:43:00"]
    ]
    assert Sighting.objects.filter(event__deployment=cn_deployment).count() == 1


def test_a_new_time_zone_regroups_against_neighbours(cn_deployment, alice):
    shoot(cn_deployment, alice, "2009:04:21 00:40:00")
    cn_deployment.time_zone = "Asia/Vladivostok"
    cn_deployment.save()
    tasks.regroup_deployment.apply(args=(cn_deployment.pk,))
    [event] = cn_deployment.events.all()
    # Vladivostok was UTC+11 in April 2009.
    assert event.start_at == dt.datetime(2009, 4, 20, 13, 40, tzinfo=dt.UTC)


def test_folder_names_become_sightings_marked_as_such(cn_deployment, alice):
    media = shoot(
        cn_deployment, alice, "2009:04:21 00:40:00", "2009:04:21 00:40:20", folder="StationA/PBE"
    )
    batch = media[0].batch
    folders.collect(batch)
    [folder] = batch.folders.all()
    assert (folder.name, folder.species, folder.is_answered) == ("PBE", None, False)
    leopard_cat = Species.objects.get(scientific_name="Prionailurus bengalensis")
    folders.answer(folder, leopard_cat)
    folders.apply(batch)
    [event] = cn_deployment.events.all()
    [sighting] = event.sightings.all()
    assert (sighting.species, sighting.classification_method, sighting.classified_by) == (
        leopard_cat,
        "folder",
        alice,
    )


def test_folders_the_catalogue_knows_are_answered_at_once(cn_deployment, alice):
    [media] = shoot(cn_deployment, alice, "2009:04:21 00:40:00", folder="card/Leopard Cat")
    folders.collect(media.batch)
    assert media.batch.folders.get().species.scientific_name == "Prionailurus bengalensis"
    media.refresh_from_db()
    assert media.event.sightings.get().classification_method == "folder"


@pytest.mark.parametrize(
    "name",
    ["panthera uncia", "Snow Leopard", "雪豹", "СНЕЖНЫЙ БАРС", "Snow leopard (Panthera uncia)"],
)
def test_species_are_found_by_any_of_their_names(db, name):
    assert Species.objects.all().find(name).scientific_name == "Panthera uncia"


def test_an_unknown_name_is_not_guessed(db):
    assert Species.objects.all().find("Snow leopards") is None
    assert Species.objects.all().find("PBE") is None


def test_a_station_folder_alone_names_no_species():
    assert folders.species_folder("StationA", "StationA") == ""
    assert folders.species_folder("StationA/PBE", "StationA") == "PBE"
    assert folders.species_folder("PBE", "StationA") == "PBE"
    assert folders.species_folder("", "StationA") == ""
