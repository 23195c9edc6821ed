from __future__ import annotations

import hashlib
import random
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from sightings.models import Media, ResumableUpload

from ..conftest import wait_until
from .conftest import log_in

CHUNK = 4 * 1024 * 1024  # upload.js's CHUNK_BYTES


@pytest.fixture(scope="module")
def large_jpeg(tmp_path_factory) -> Path:
    """A real JPEG of about 24 MB, as a 10 MP camera writes at its best quality: the pixels
    are noise, so that nothing compresses it smaller."""
    path = tmp_path_factory.mktemp("large") / "IMG_0042.JPG"
    pixels = random.Random(42).randbytes(3600 * 2700 * 3)
    Image.frombytes("RGB", (3600, 2700), pixels).save(path, "JPEG", quality=95, subsampling=0)
    return path


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def chunks_of(size: int) -> list[tuple[int, int]]:
    return [(offset, min(CHUNK, size - offset)) for offset in range(0, size, CHUNK)]


def stored_file_is(source: Path) -> bool:
    media = Media.objects.get()
    return (
        media.sha256
        == sha256(source.read_bytes())
        == sha256(default_storage.open(media.file.name).read())
    )


@pytest.mark.django_db(transaction=True)
def test_a_connection_cut_mid_file_resumes_and_the_file_arrives_intact(
    page, live_server, alice, cn_deployment, celery_worker, large_jpeg
):
    reached, cut = [], []  # PATCHes that reached the server, and the one cut off

    def connection(route) -> None:
        request = route.request
        offset = int(request.headers.get("upload-offset", "0"))
        if request.method == "PATCH" and offset > 0 and not cut:
            cut.append(offset)
            return route.abort("connectionreset")
        if request.method == "PATCH":
            reached.append((offset, len(request.post_data_buffer)))
        return route.continue_()

    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/deployments/{cn_deployment.pk}/upload/")
    page.route("**/uploads/**", connection)
    page.set_input_files("input[name=files]", [large_jpeg])
    page.click("#upload-button")
    page.wait_for_url(f"{live_server.url}/batches/*/", timeout=120_000)
    size = large_jpeg.stat().st_size
    assert cut == [CHUNK]
    # Every chunk reached the server once, the one cut off included: nothing twice.
    assert sorted(reached) == chunks_of(size)
    assert Media.objects.count() == 1
    assert stored_file_is(large_jpeg)
    wait_until(lambda: Media.objects.get().state == Media.State.PROCESSED, 90)
    assert Media.objects.get().width == 3600


@pytest.mark.django_db(transaction=True)
def test_a_closed_page_and_a_new_one_choosing_the_same_file_resume(
    page, live_server, alice, cn_deployment, celery_worker, large_jpeg
):
    def stall_after_the_first_chunk(route) -> None:
        if route.request.method == "PATCH" and route.request.headers["upload-offset"] != "0":
            return None  # never answered: the page is closed while it waits
        return route.continue_()

    log_in(page, live_server, "alice")
    upload_page = f"{live_server.url}/deployments/{cn_deployment.pk}/upload/"
    page.goto(upload_page)
    page.route("**/uploads/**", stall_after_the_first_chunk)
    page.set_input_files("input[name=files]", [large_jpeg])
    # The second chunk is asked for once the server took the first.
    second_chunk = lambda r: r.method == "PATCH" and r.headers["upload-offset"] == str(CHUNK)  # noqa: E731
    with page.expect_request(second_chunk):
        page.click("#upload-button")
    assert ResumableUpload.objects.get().offset == CHUNK
    page.close()

    again = page.context.new_page()  # the same browser profile, so the same localStorage
    heads, patches = [], []
    again.on("response", lambda r: r.request.method == "HEAD" and heads.append(r.headers))
    again.on("request", lambda r: r.method == "PATCH" and patches.append(r.headers))
    again.goto(upload_page)
    assert "choose the same files or folder" in again.text_content("#resume-note")
    again.set_input_files("input[name=files]", [large_jpeg])
    again.click("#upload-button")
    again.wait_for_url(f"{live_server.url}/batches/*/", timeout=120_000)
    # At least the first chunk was kept (and what arrived of the second before the page was
    # closed, if anything did), and the new page went on from there.
    assert int(heads[0]["upload-offset"]) >= CHUNK
    assert patches[0]["upload-offset"] == heads[0]["upload-offset"]
    upload = ResumableUpload.objects.get()
    assert again.url == f"{live_server.url}/batches/{upload.batch_id}/"  # the card's batch
    assert Media.objects.count() == 1
    assert stored_file_is(large_jpeg)
