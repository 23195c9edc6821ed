from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import signal
import threading
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from PIL import Image, ImageChops, ImageFile

from neaspec_traps.celery import app as celery_app
from sightings import derivatives, ingest, processing, tasks
from sightings.models import Media, Membership, PendingGrouping, UploadBatch

from .conftest import TESTDATA, running_worker, wait_until

HYPERFIRE_2 = TESTDATA / "camera-trap/camtrap-dp-example/media/20210531082538-RCNX0031.JPG"
TRUNCATED = TESTDATA / "camera-trap/speciesnet/test_data/african_elephants_truncated_file.jpg"
# TRUNCATED is its first 600,000 bytes, as a camera that lost power while writing leaves it.
ELEPHANTS = TESTDATA / "camera-trap/speciesnet/test_data/african_elephants.jpg"
ROTATED = TESTDATA / "exif-samples/jpg/orientation/landscape_6.jpg"
HEIC = TESTDATA / "exif-samples/heic/mobile/iphone_13_pro_max.HEIC"
CAMTRAPR_STATION_B = TESTDATA / "camera-trap/camtrapR/sample_images_species_dir/StationB"
# Sniffs as a JPEG (so it is stored) but is none: the worker's decode has the final word.
FAKE_JPEG = b"\xff\xd8\xff\xe0battery 87%, 3 triggers\n"
NOT_READABLE = "The file is not an image that can be read."
DAMAGED = "The image data is damaged and cannot be decoded."
CUT_SHORT = (
    "The image data ends early: the camera may have lost power while writing it. "
    "The preview shows the part that was saved."
)
RETRIED = (
    "The same file was uploaded before and could not be processed then: it was queued to be "
    "processed again."
)


def add(deployment, user, path: Path, data: bytes | None = None, name: str = "") -> Media:
    """Put a file into a new batch through the upload code, as the upload page does."""
    data = path.read_bytes() if data is None else data
    batch = deployment.batches.create(uploaded_by=user)
    return ingest.add_file(
        batch, File(io.BytesIO(data), name=name or path.name), name=name or path.name,
        folder="", sha256=hashlib.sha256(data).hexdigest(),
    )  # fmt: skip


def process(media: Media) -> Media:
    """Process a media as a worker does, then group it into events.

    Grouping here, whether or not the request is still pending: in a transactional test a
    running test worker may take the request first, and this then waits for its lock.
    """
    tasks.process_media.apply(args=(media.pk,))
    tasks.group_new_media.apply(args=(media.deployment_id,))
    media.refresh_from_db()
    return media


def jpeg(size: tuple[int, int], **save) -> bytes:
    buffer = io.BytesIO()
    Image.linear_gradient("L").resize(size).convert("RGB").save(buffer, "JPEG", **save)
    return buffer.getvalue()


def test_it_reads_a_reconyx_image_and_corrects_its_time(ru_deployment, boris):
    media = process(add(ru_deployment, boris, HYPERFIRE_2))
    assert (media.state, media.failure_reason) == ("processed", "")
    assert media.camera_time == "2021-04-11T20:43:09"
    assert media.capture_time_source == "DateTimeOriginal"
    # The deployment's clock is Asia/Vladivostok, UTC+10.
    assert media.captured_at == dt.datetime(2021, 4, 11, 10, 43, 9, tzinfo=dt.UTC)
    assert (media.make, media.model, media.serial_number) == (
        "RECONYX",
        "HYPERFIRE 2 COVERT",
        "H2RXEM06043616",
    )
    assert (media.width, media.height, media.temperature, media.user_label) == (
        2048,
        1440,
        2,
        "MICA 318",
    )
    assert (media.sequence_number, media.sequence_length, media.event_number) == (1, 10, 4)
    assert media.exif["Image Make"] == "RECONYX"
    assert media.is_outside_deployment is False


def test_it_makes_a_dct_sized_preview_and_a_thumbnail(cn_deployment, alice):
    media = process(add(cn_deployment, alice, Path("big.jpg"), jpeg((4608, 2592))))
    preview = Image.open(default_storage.open(media.preview.name))
    thumbnail = Image.open(default_storage.open(media.thumbnail.name))
    # 4608 / 4 = 1152: decoded at a quarter scale, with no resampling.
    assert (preview.format, preview.size) == ("JPEG", (1152, 648))
    # 1152 / 4 = 288: the whole-factor reduction that comes closest to 320 px.
    assert thumbnail.size == (288, 162)
    assert media.preview.name == f"previews/{media.sha256[:2]}/{media.sha256}.jpg"


def test_the_preview_of_an_odd_size_is_resampled_to_1600(cn_deployment, alice):
    media = process(add(cn_deployment, alice, Path("odd.jpg"), jpeg((3264, 2448))))
    preview = Image.open(default_storage.open(media.preview.name))
    assert preview.size == (1600, 1200)
    thumbnail = Image.open(default_storage.open(media.thumbnail.name))
    assert thumbnail.size == (320, 240)


def test_derivatives_are_upright(cn_deployment, alice):
    media = process(add(cn_deployment, alice, ROTATED))
    stored = Image.open(ROTATED)
    preview = Image.open(default_storage.open(media.preview.name))
    assert media.orientation == 6
    assert preview.size == (stored.height, stored.width)


def test_it_processes_heic_from_phones_upright(cn_deployment, alice):
    media = process(add(cn_deployment, alice, HEIC))
    assert (media.state, media.make, media.camera_time) == (
        "processed",
        "Apple",
        "2022-02-16T12:55:41.762000",
    )
    # Stored 4032 × 3024 with orientation 6: a portrait photo, turned exactly once.
    assert (media.width, media.height, media.orientation, media.camera_offset) == (
        4032,
        3024,
        6,
        "+01:00",
    )
    preview = Image.open(default_storage.open(media.preview.name))
    assert (preview.format, preview.size) == ("JPEG", (1200, 1600))


def _scan_start(data: bytes) -> int:
    """Where a JPEG's image data starts: its start-of-scan marker."""
    return data.index(b"\xff\xda")


@pytest.mark.parametrize(
    "name,data,reason",
    [
        ("notes.jpg", FAKE_JPEG, NOT_READABLE),
        # Cut within its EXIF block: the header itself is broken.
        ("cut-in-header.jpg", TRUNCATED.read_bytes()[:3000], NOT_READABLE),
        # A whole header, and not one byte of image data to show.
        ("no-data.jpg", jpeg((64, 48))[: _scan_start(jpeg((64, 48)))], DAMAGED),
    ],
)
def test_a_bad_file_fails_with_its_reason(cn_deployment, alice, name, data, reason):
    media = process(add(cn_deployment, alice, Path(name), data))
    assert (media.state, media.failure_reason, media.is_truncated) == ("failed", reason, False)
    assert media.processed_at is not None


def test_a_truncated_image_keeps_its_metadata_and_gets_a_preview(cn_deployment, alice):
    media = process(add(cn_deployment, alice, TRUNCATED))
    assert (media.state, media.failure_reason, media.is_truncated) == ("processed", "", True)
    assert media.warnings == [
        {"reason": CUT_SHORT, "detail": "image file is truncated (13 bytes not processed)"}
    ]
    # Read from the intact header as for any file, and as exiftool reads it.
    reference = _exiftool(TRUNCATED)
    assert (media.width, media.height, media.orientation) == (
        reference["File:ImageWidth"],
        reference["File:ImageHeight"],
        reference["IFD0:Orientation"],
    )
    assert media.camera_time == "2010-08-04T08:43:15"  # DateTimeOriginal 2010:08:04 08:43:15
    assert media.image_description == reference["IFD0:ImageDescription"]
    assert media.captured_at == dt.datetime(2010, 8, 4, 0, 43, 15, tzinfo=dt.UTC)  # UTC+8
    assert media.event is not None
    thumbnail = Image.open(default_storage.open(media.thumbnail.name))
    assert thumbnail.size == (342, 256)  # the 1024 × 768 preview reduced by 3


def test_the_preview_of_a_truncated_image_is_what_was_saved(cn_deployment, alice):
    cut = process(add(cn_deployment, alice, TRUNCATED))
    whole = process(add(cn_deployment, alice, ELEPHANTS))
    cut_preview = Image.open(default_storage.open(cut.preview.name))
    whole_preview = Image.open(default_storage.open(whole.preview.name))
    assert cut_preview.size == whole_preview.size == (1024, 768)
    # The rows the cut file holds are those of the whole image; the rest is grey.
    saved, lost = (0, 0, 1024, 640), (0, 680, 1024, 768)
    assert (
        ImageChops.difference(cut_preview.crop(saved), whole_preview.crop(saved)).getbbox() is None
    )
    assert cut_preview.crop(lost).getextrema() == ((128, 128),) * 3
    assert whole.is_truncated is False and whole.warnings == []


def test_a_truncated_jpeg_decodes_as_pillows_truncated_loading_would(monkeypatch):
    with TRUNCATED.open("rb") as file:
        ours = derivatives.render_derivatives(file)
    # Pillow's own switch, for the comparison only: a module global, read by every decode.
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with TRUNCATED.open("rb") as file:
        pillows = derivatives.render_derivatives(file)
    assert (ours.preview, ours.thumbnail) == (pillows.preview, pillows.thumbnail)


def test_decoding_a_truncated_image_never_lets_another_decode_take_one(cn_deployment, alice):
    # While a worker thread makes derivatives of truncated images, any other decode of one in
    # the process still fails, as it would with a process-wide switch flipped around it.
    data = TRUNCATED.read_bytes()
    accepted = []

    def strict_decodes() -> None:
        for _ in range(40):
            with Image.open(io.BytesIO(data)) as image:
                try:
                    image.load()
                    accepted.append(True)
                except OSError:
                    pass

    other = threading.Thread(target=strict_decodes)
    other.start()
    for _ in range(20):
        assert derivatives.render_derivatives(io.BytesIO(data)).cut_short
    other.join()
    assert (accepted, ImageFile.LOAD_TRUNCATED_IMAGES) == ([], False)


def _exiftool(path: Path) -> dict:
    records = json.loads((TESTDATA / "exiftool-reference.json").read_text())
    return next(r for r in records if r["SourceFile"] == str(path.relative_to(TESTDATA)))


def test_an_image_over_the_pixel_limit_fails(cn_deployment, alice, settings):
    settings.MAX_IMAGE_PIXELS = 1000 * 1000
    media = process(add(cn_deployment, alice, Path("bomb.jpg"), jpeg((1001, 1000))))
    assert media.state == "failed"
    assert media.failure_reason == "The image has more pixels than allowed."
    assert media.failure_detail == "1001 × 1000 px, limit 1000000 px"


def test_the_worker_never_holds_a_file_whole(cn_deployment, alice):
    # A camera JPEG followed by 64 MiB of other data: the metadata come from the header and
    # the preview from one decode reading the file; the trailing data is never read.
    data = jpeg((4608, 2592)) + bytes(64 * 2**20)
    media = add(cn_deployment, alice, Path("long.jpg"), data)
    del data
    tracemalloc.start()
    try:
        tasks.process_media.apply(args=(media.pk,))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    media.refresh_from_db()
    assert (media.state, media.width, media.height) == ("processed", 4608, 2592)
    assert peak < 8 * 2**20


def test_it_ignores_a_media_that_no_longer_exists(db):
    assert tasks.process_media.apply(args=(987654,)).successful()


def test_it_leaves_a_processed_media_alone(ru_deployment, boris):
    media = process(add(ru_deployment, boris, HYPERFIRE_2))
    processed_at = media.processed_at
    media = process(media)
    assert (media.processed_at, media.attempt_count) == (processed_at, 1)


def test_a_redelivered_media_is_processed_again(ru_deployment, boris):
    # The worker died while the media was "processing": the message comes back.
    media = add(ru_deployment, boris, HYPERFIRE_2)
    Media.objects.filter(pk=media.pk).update(state="processing", attempt_count=1)
    media = process(media)
    assert (media.state, media.attempt_count) == ("processed", 2)


def test_it_gives_up_on_a_file_that_keeps_killing_its_worker(ru_deployment, boris):
    media = add(ru_deployment, boris, HYPERFIRE_2)
    Media.objects.filter(pk=media.pk).update(state="processing", attempt_count=3)
    media = process(media)
    assert media.state == "failed"
    assert media.failure_reason == (
        "Processing stopped several times before it could finish: try again later, and tell a "
        "site admin if it keeps failing."
    )
    assert media.failure_detail == "3 attempts, the worker stopped"


def test_processing_again_writes_the_same_files(ru_deployment, boris):
    media = process(add(ru_deployment, boris, HYPERFIRE_2))
    preview = default_storage.open(media.preview.name).read()
    Media.objects.filter(pk=media.pk).update(state="queued")
    again = process(media)
    assert (again.preview.name, again.thumbnail.name) == (media.preview.name, media.thumbnail.name)
    assert default_storage.open(again.preview.name).read() == preview


def test_a_worker_spends_four_queries_on_an_image(ru_deployment, boris, django_assert_num_queries):
    # Load, start, save, ask for grouping. A field that processing reads but does not load
    # (processing.LOADED_FIELDS) would cost one more query per image.
    media = add(ru_deployment, boris, HYPERFIRE_2)
    PendingGrouping.objects.create(deployment=ru_deployment)  # an earlier image asked
    with django_assert_num_queries(4):
        tasks.process_media.apply(args=(media.pk,))
    media.refresh_from_db()
    assert (media.state, media.captured_at.year, media.event) == ("processed", 2021, None)


def test_a_failing_file_costs_three_queries(cn_deployment, alice, django_assert_num_queries):
    media = add(cn_deployment, alice, Path("notes.jpg"), FAKE_JPEG)
    with django_assert_num_queries(3):
        tasks.process_media.apply(args=(media.pk,))
    media.refresh_from_db()
    assert (media.state, media.failure_reason) == ("failed", NOT_READABLE)


def test_the_retry_button_queues_a_failed_file_again(
    client, alice, cn_deployment, django_capture_on_commit_callbacks
):
    media = process(add(cn_deployment, alice, Path("notes.jpg"), FAKE_JPEG))
    client.force_login(alice)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(f"/media/{media.pk}/retry/")
    media.refresh_from_db()
    assert response.status_code == 302
    assert (media.state, media.failure_reason, media.attempt_count) == ("queued", "", 0)
    assert len(callbacks) == 1


def test_only_uploaders_of_the_team_may_retry(client, boris, alice, cn_deployment):
    media = process(add(cn_deployment, alice, Path("notes.jpg"), FAKE_JPEG))
    client.force_login(boris)
    assert client.post(f"/media/{media.pk}/retry/").status_code == 403
    media.refresh_from_db()
    assert media.state == "failed"


# Uploading again a file whose stored copy failed.


def upload_again(client, deployment, name: str, data: bytes) -> UploadBatch:
    """Upload one file through the upload page, in a new batch."""
    client.post(f"/deployments/{deployment.pk}/upload/", {"files": SimpleUploadedFile(name, data)})
    return deployment.batches.latest("pk")


@pytest.mark.parametrize("damage", ["missing", "damaged", "intact"])
def test_uploading_a_failed_file_again_retries_it(
    client, alice, cn_deployment, damage, django_capture_on_commit_callbacks
):
    data = HYPERFIRE_2.read_bytes()
    media = add(cn_deployment, alice, HYPERFIRE_2)
    stored = Path(default_storage.path(media.file.name))
    if damage == "missing":
        stored.unlink()
    elif damage == "damaged":
        stored.write_bytes(FAKE_JPEG)  # a disk error: not the bytes its hash names
    else:  # the worker died on it, as many times as it may
        Media.objects.filter(pk=media.pk).update(state="processing", attempt_count=3)
    failed = process(media)
    assert failed.state == "failed"
    if damage == "missing":
        assert (failed.failure_reason, failed.failure_detail) == (
            "The uploaded file is missing from storage: upload it again and it will be processed.",
            f"No such file or directory: {stored}",
        )
    client.force_login(alice)
    with django_capture_on_commit_callbacks() as callbacks:
        batch = upload_again(client, cn_deployment, "again.JPG", data)
    media.refresh_from_db()
    assert (media.state, media.failure_reason, media.attempt_count) == ("queued", "", 0)
    assert len(callbacks) == 1  # its processing task
    assert stored.read_bytes() == data  # a broken stored copy is replaced by the upload
    skipped = batch.skipped_files.get()
    assert (skipped.name, skipped.reason, skipped.message, skipped.duplicate_of) == (
        "again.JPG",
        "retried",
        RETRIED,
        media,
    )
    progress = batch.progress()
    assert (progress["retried"], progress["duplicates"], progress["total"]) == (1, 0, 0)
    assert progress["done"] is False  # the new batch waits for what it queued again
    assert process(media).state == "processed"
    assert batch.progress()["done"] is True
    assert media.batch_id != batch.pk  # it stays in the batch it came with


def test_uploading_a_processed_file_again_is_still_a_duplicate(client, alice, cn_deployment):
    media = process(add(cn_deployment, alice, HYPERFIRE_2))
    client.force_login(alice)
    batch = upload_again(client, cn_deployment, "again.JPG", HYPERFIRE_2.read_bytes())
    assert batch.skipped_files.get().reason == "duplicate"
    media.refresh_from_db()
    assert (media.state, media.attempt_count) == ("processed", 1)


def test_a_failed_copy_of_another_team_stays_a_plain_duplicate(
    client, alice, boris, cn_deployment, ru_deployment
):
    Membership.objects.create(
        user=boris, team=ru_deployment.location.team, role=Membership.Role.UPLOADER
    )
    theirs = process(add(cn_deployment, alice, Path("fake.jpg"), FAKE_JPEG))
    client.force_login(boris)
    batch = upload_again(client, ru_deployment, "mine.jpg", FAKE_JPEG)
    # Neither retried for them, nor a word to boris of its state or where it is.
    after = Media.objects.get(pk=theirs.pk)
    assert (after.state, after.attempt_count, after.processed_at) == (
        "failed",
        1,
        theirs.processed_at,
    )
    skipped = batch.skipped_files.get()
    assert (skipped.reason, skipped.duplicate_of) == ("duplicate", theirs)
    progress = client.get(f"/batches/{batch.pk}/progress/").json()
    assert (progress["duplicates"], progress["retried"], progress["done"]) == (1, 0, True)
    page = client.get(f"/batches/{batch.pk}/").content.decode()
    assert "The same file was uploaded before, so it is not stored again." in page
    assert RETRIED not in page and f"/media/{theirs.pk}/" not in page and "fake.jpg" not in page


def test_an_uploader_of_both_teams_retries_either_teams_failed_copy(
    client, alice, cn_deployment, ru_deployment
):
    Membership.objects.create(
        user=alice, team=ru_deployment.location.team, role=Membership.Role.UPLOADER
    )
    theirs = process(add(cn_deployment, alice, Path("fake.jpg"), FAKE_JPEG))
    client.force_login(alice)
    batch = upload_again(client, ru_deployment, "again.jpg", FAKE_JPEG)
    assert batch.skipped_files.get().reason == "retried"
    theirs.refresh_from_db()
    assert (theirs.state, theirs.deployment) == ("queued", cn_deployment)


# End to end: the upload page, a real worker process, the real broker.


@pytest.mark.django_db(transaction=True)
def test_a_worker_processes_an_uploaded_card(client, alice, cn_deployment, celery_worker):
    client.force_login(alice)
    images = sorted(CAMTRAPR_STATION_B.rglob("*.JPG"))
    bad = {"fake.JPG": FAKE_JPEG, "cut.JPG": TRUNCATED.read_bytes()}
    skipped = {"empty.JPG": b"", "readme.JPG": b"not a picture"}  # never stored: no image
    files = [File(path.open("rb"), name=path.name) for path in images]
    files += [File(io.BytesIO(data), name=name) for name, data in (bad | skipped).items()]
    response = client.post(f"/deployments/{cn_deployment.pk}/upload/", {"files": files})
    batch = cn_deployment.batches.get()
    assert response.url == f"/batches/{batch.pk}/"
    wait_until(lambda: batch.progress()["done"], 120, celery_worker.text())
    progress = batch.progress()
    assert progress["states"] == {
        "queued": 0,
        "processing": 0,
        "processed": len(images) + 1,
        "failed": 1,
    }
    assert progress["truncated"] == 1
    failed = dict(batch.media.filter(state="failed").values_list("original_name", "failure_reason"))
    assert failed == {"fake.JPG": NOT_READABLE}
    # The image cut short is processed from what was saved, with a warning.
    cut = batch.media.get(original_name="cut.JPG")
    assert (cut.is_truncated, cut.camera_time, cut.warnings[0]["reason"]) == (
        True,
        "2010-08-04T08:43:15",
        CUT_SHORT,
    )
    assert default_storage.exists(cut.preview.name)
    assert sorted(batch.skipped_files.values_list("name", flat=True)) == sorted(skipped)
    first = batch.media.get(original_name="StationB__2009-04-05__00-11-00(1).JPG")
    assert (first.make, first.model, first.camera_time) == (
        "G6.1",
        "CUDDEBACK",
        "2009-04-05T00:11:00",
    )
    # Asia/Shanghai is UTC+8.
    assert first.captured_at == dt.datetime(2009, 4, 4, 16, 11, tzinfo=dt.UTC)
    assert default_storage.exists(first.thumbnail.name)
    # Done means grouped too: the card's events, each with its draft sighting to name.
    events = cn_deployment.events.all()
    assert sum(event.media_count for event in events) == len(images) + 1
    assert [event.sightings.get().species for event in events] == [None] * len(events)


@pytest.mark.django_db(transaction=True)
def test_a_worker_processes_a_failed_file_uploaded_again(
    client, alice, cn_deployment, celery_worker
):
    # Its stored copy went missing, so it failed; the new upload brings the bytes back.
    data = HYPERFIRE_2.read_bytes()
    earlier = cn_deployment.batches.create(uploaded_by=alice)
    media = Media.objects.create(
        batch=earlier, deployment=cn_deployment, sha256=hashlib.sha256(data).hexdigest(),
        file="originals/lost.jpg", original_name="RCNX0031.JPG", file_size=len(data),
        format="jpeg", state="failed", failure_reason=processing.MISSING,
    )  # fmt: skip
    client.force_login(alice)
    batch = upload_again(client, cn_deployment, "RCNX0031.JPG", data)
    wait_until(lambda: batch.progress()["done"], 60, celery_worker.text())
    media.refresh_from_db()
    assert (media.state, media.camera_time, media.attempt_count) == (
        "processed",
        "2021-04-11T20:43:09",
        1,
    )
    progress = client.get(f"/batches/{batch.pk}/progress/").json()
    assert (progress["retried"], progress["total"], progress["done"]) == (1, 0, True)
    page = client.get(f"/batches/{batch.pk}/").content.decode()
    assert RETRIED in page and f'href="/media/{media.pk}/"' in page


@pytest.fixture
def own_queue(celery_queue) -> Iterator[str]:
    """A queue that only this test's worker consumes."""
    queue = celery_queue + "-own"
    celery_app.conf.task_default_queue = queue
    yield queue
    celery_app.conf.task_default_queue = celery_queue


@pytest.mark.django_db(transaction=True)
def test_a_file_whose_worker_died_is_picked_up_again(alice, cn_deployment, own_queue, media_root):
    # The original is a named pipe: opening it blocks, as on a stalled network filesystem,
    # so the worker can be killed mid-task. Then the image takes its place.
    (media_root / "originals").mkdir(exist_ok=True)
    stalled = media_root / "originals" / "stalled.jpg"
    os.mkfifo(stalled)
    data = HYPERFIRE_2.read_bytes()
    batch = cn_deployment.batches.create(uploaded_by=alice)
    media = Media.objects.create(
        batch=batch, deployment=cn_deployment, sha256=hashlib.sha256(data).hexdigest(),
        file="originals/stalled.jpg", original_name=HYPERFIRE_2.name, file_size=len(data),
    )  # fmt: skip
    with running_worker(own_queue, media_root, concurrency=1) as worker:
        tasks.process_media.delay(media.pk)
        wait_until(lambda: Media.objects.filter(pk=media.pk, state="processing").exists())
        wait_until(lambda: any(_opening_a_pipe(pid) for pid in worker.child_pids()))
        # The blocked process keeps waiting on the pipe; a new one will open the image.
        (media_root / "originals" / "image.jpg").write_bytes(data)
        os.replace(media_root / "originals" / "image.jpg", stalled)
        for pid in worker.child_pids():
            os.kill(pid, signal.SIGKILL)
        # The message comes back and a new process takes the media again.
        wait_until(lambda: Media.objects.get(pk=media.pk).state == "processed", 60, worker.text())
    media.refresh_from_db()
    assert (media.attempt_count, media.camera_time) == (2, "2021-04-11T20:43:09")
    assert "exited with 'signal 9 (SIGKILL)'" in worker.text()


def _opening_a_pipe(pid: int) -> bool:
    # Linux's name for where open() of a pipe waits for the other end.
    return Path(f"/proc/{pid}/wchan").read_text() == "wait_for_partner"


@pytest.mark.django_db(transaction=True)
def test_a_worker_whose_database_connection_was_cut_carries_on(
    alice, cn_deployment, own_queue, media_root
):
    if connection.vendor != "postgresql":
        pytest.skip("cuts the connection with PostgreSQL's pg_terminate_backend")
    with running_worker(own_queue, media_root) as worker:
        first = add(cn_deployment, alice, HYPERFIRE_2)
        wait_until(lambda: Media.objects.get(pk=first.pk).state == "processed", 60, worker.text())
        # As when PostgreSQL restarts: the worker's open connection is gone, unknown to it.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            assert cursor.fetchall(), "the worker had no connection to cut"
        second = add(cn_deployment, alice, ROTATED)
        wait_until(lambda: Media.objects.get(pk=second.pk).state == "processed", 60, worker.text())
    # The task met the broken connection, and its retry ran on a new one.
    assert "Retry in" in worker.text()
