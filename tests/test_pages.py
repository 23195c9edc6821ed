from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from .conftest import TESTDATA
from .test_processing import CUT_SHORT, HYPERFIRE_2, TRUNCATED, add, process

# Starts as a JPEG does, so it is stored, and fails in processing.
FAKE_JPEG = b"\xff\xd8\xff\xe0battery 87%, 3 triggers\n"

MARKUP = '<script>alert("exif")</script>'


def jpeg_with_text(description: str, make: str) -> bytes:
    exif = Image.Exif()
    exif[0x010E], exif[0x010F] = description, make
    exif.get_ifd(0x8769)[0x9003] = "2009:04:21 00:40:00"
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "olive").save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


@pytest.fixture
def reconyx(ru_deployment, boris):
    return process(add(ru_deployment, boris, HYPERFIRE_2))


def test_the_media_list_shows_camera_and_utc_times(client, boris, ru_deployment, reconyx):
    client.force_login(boris)
    response = client.get(f"/deployments/{ru_deployment.pk}/")
    assert response.status_code == 200
    text = response.content.decode()
    assert reconyx.original_name in text
    assert "2021-04-11T20:43:09" in text  # as the camera wrote it
    assert "2021-04-11 20:43:09 +1000" in text  # local, Asia/Vladivostok
    assert "2021-04-11 10:43:09" in text  # UTC
    assert f'src="/media/{reconyx.pk}/thumbnail/"' in text


def test_the_media_page_shows_every_extracted_field(client, boris, reconyx):
    client.force_login(boris)
    text = client.get(f"/media/{reconyx.pk}/").content.decode()
    for value in ["HYPERFIRE 2 COVERT", "H2RXEM06043616", "MICA 318", "2048 × 1440 px", "2 °C",
                  "1 of 10", "EXIF DateTimeOriginal"]:  # fmt: skip
        assert value in text


@pytest.mark.parametrize(
    "language, labels",
    [("en", ["Colour space", "White balance"]), ("ru", ["Цветовое пространство", "Баланс белого"]),
     ("zh-hans", ["色彩空间", "白平衡"])],
)  # fmt: skip
def test_the_files_other_tags_have_labels_in_the_readers_language(
    client, boris, reconyx, language, labels
):
    client.force_login(boris)
    text = client.get(f"/media/{reconyx.pk}/", headers={"Accept-Language": language})
    text = text.content.decode()
    assert all(label in text for label in labels)
    assert "sRGB" in text and "2021-04-11 20:43:09" in text  # the digitised time
    # Raw tag names are technical details, for site admins; the team sees none.
    assert "EXIF ColorSpace" not in text and "technical-details" not in text


def test_site_admins_see_the_other_tags_as_technical_details(client, site_admin, reconyx):
    client.force_login(site_admin)
    text = client.get(f"/media/{reconyx.pk}/").content.decode()
    assert 'id="technical-details"' in text
    assert "EXIF ComponentsConfiguration" in text
    assert "EXIF ColorSpace" not in text  # shown with its label instead


def test_file_markup_is_escaped_everywhere(client, alice, cn_deployment):
    data = jpeg_with_text(MARKUP, "<b>RECONYX</b>")
    media = process(add(cn_deployment, alice, Path("x.jpg"), data, name=f"{MARKUP}.jpg"))
    client.force_login(alice)
    for url in [
        f"/media/{media.pk}/",
        f"/deployments/{cn_deployment.pk}/",
        f"/batches/{media.batch_id}/",
    ]:
        text = client.get(url).content.decode()
        assert "<script>alert" not in text
        assert "<b>RECONYX" not in text
    detail = client.get(f"/media/{media.pk}/").content.decode()
    assert "&lt;script&gt;alert(&quot;exif&quot;)&lt;/script&gt;" in detail
    assert "&lt;b&gt;RECONYX&lt;/b&gt;" in detail


def test_images_are_served_only_to_the_team(client, boris, charlie, reconyx):
    client.force_login(boris)
    preview = client.get(f"/media/{reconyx.pk}/preview/")
    assert (preview.status_code, preview["Content-Type"]) == (200, "image/jpeg")
    assert client.get(f"/media/{reconyx.pk}/original/").getvalue() == HYPERFIRE_2.read_bytes()
    client.force_login(charlie)
    for kind in ["original", "preview", "thumbnail"]:
        assert client.get(f"/media/{reconyx.pk}/{kind}/").status_code == 403


@pytest.mark.parametrize(
    "url", ["/deployments/{d}/", "/media/{m}/", "/batches/{b}/", "/batches/{b}/progress/"]
)
def test_other_teams_get_403(client, alice, reconyx, url):
    client.force_login(alice)
    url = url.format(d=reconyx.deployment_id, m=reconyx.pk, b=reconyx.batch_id)
    assert client.get(url).status_code == 403


def test_the_batch_page_lists_failures_duplicates_and_skipped_files(client, alice, cn_deployment):
    client.force_login(alice)
    data = HYPERFIRE_2.read_bytes()
    files = [SimpleUploadedFile("fake.JPG", FAKE_JPEG), SimpleUploadedFile("a.JPG", data)]
    files += [SimpleUploadedFile("copy-of-a.JPG", data), SimpleUploadedFile("empty.JPG", b"")]
    client.post(f"/deployments/{cn_deployment.pk}/upload/", {"files": files})
    batch = cn_deployment.batches.get()
    process(batch.media.get(original_name="fake.JPG"))
    text = client.get(f"/batches/{batch.pk}/").content.decode()
    assert "The file is not an image that can be read." in text
    assert "The same file was uploaded before, so it is not stored again." in text
    assert "The file is empty: the camera may have lost power while writing it." in text
    assert "Retry all failed files" in text


def test_a_batch_of_only_duplicates_shows_no_empty_progress_bar(client, alice, cn_deployment):
    client.force_login(alice)
    data = HYPERFIRE_2.read_bytes()
    url = f"/deployments/{cn_deployment.pk}/upload/"
    client.post(url, {"files": [SimpleUploadedFile("a.JPG", data)]})
    client.post(url, {"files": [SimpleUploadedFile("again.JPG", data)]})
    first, second = cn_deployment.batches.order_by("pk")
    assert '<progress id="processing-bar" max="1" value="0" hidden>' in (
        client.get(f"/batches/{second.pk}/").content.decode()
    )
    assert '<progress id="processing-bar" max="1" value="0">' in (
        client.get(f"/batches/{first.pk}/").content.decode()
    )


def test_recent_uploads_say_their_status_and_counts(client, alice, cn_deployment):
    client.force_login(alice)
    data = HYPERFIRE_2.read_bytes()
    files = [SimpleUploadedFile(name, body) for name, body in [
        ("a.JPG", data), ("copy.JPG", data), ("fake.JPG", FAKE_JPEG), ("empty.JPG", b"")
    ]]  # fmt: skip
    client.post(f"/deployments/{cn_deployment.pk}/upload/", {"files": files})
    batch = cn_deployment.batches.get()
    process(batch.media.get(original_name="fake.JPG"))
    text = " ".join(client.get("/").content.decode().split())
    assert (
        f"Batch {batch.pk}</a> · HC-07 · {batch.created_at:%Y-%m-%d %H:%M} UTC · "
        '<span class="badge badge-warn">processing</span> 2 images, '
        '<span class="badge badge-bad">1 failed</span>, 2 duplicates or skipped files'
    ) in text


def test_progress_counts_states_for_the_page_script(client, alice, cn_deployment):
    fake = process(add(cn_deployment, alice, Path("fake.jpg"), FAKE_JPEG))
    client.force_login(alice)
    progress = client.get(f"/batches/{fake.batch_id}/progress/").json()
    assert progress == {
        "states": {"queued": 0, "processing": 0, "processed": 0, "failed": 1},
        "total": 1,
        "truncated": 0,
        "duplicates": 0,
        "retried": 0,
        "skipped": 0,
        "done": True,
        "workers_silent": True,  # no worker heard from in this test
        "failed": [
            {
                "id": fake.pk,
                "name": "fake.jpg",
                "folder": "",
                "reason": "The file is not an image that can be read.",
            }
        ],
    }


def test_failure_reasons_are_translated_when_shown(client, alice, cn_deployment):
    fake = process(add(cn_deployment, alice, Path("fake.jpg"), FAKE_JPEG))
    client.force_login(alice)
    client.post("/i18n/setlang/", {"language": "ru"})
    progress = client.get(f"/batches/{fake.batch_id}/progress/").json()
    assert progress["failed"][0]["reason"] == "Файл не является читаемым изображением."
    # Stored in English:
    assert fake.failure_reason == "The file is not an image that can be read."


def test_the_list_filters_images_without_capture_time(client, alice, cn_deployment):
    no_time = TESTDATA / "camera-trap/camtrapR/full_size_for_ocr/StationA/mousedeer.JPG"
    media = process(add(cn_deployment, alice, no_time))
    process(add(cn_deployment, alice, HYPERFIRE_2))
    client.force_login(alice)
    text = client.get(f"/deployments/{cn_deployment.pk}/?show=no_time").content.decode()
    assert media.original_name in text
    assert HYPERFIRE_2.name not in text


# What went wrong: a sentence for everyone, the technical detail for site admins only.


@pytest.fixture
def troubles(client, alice, cn_deployment):
    """A batch with a failed file, a truncated image and two skipped files."""
    client.force_login(alice)
    files = [SimpleUploadedFile("fake.JPG", FAKE_JPEG), SimpleUploadedFile("empty.JPG", b"")]
    files += [SimpleUploadedFile("cut.JPG", TRUNCATED.read_bytes())]
    files += [SimpleUploadedFile("notes.JPG", b"battery 87%, 3 triggers")]
    client.post(f"/deployments/{cn_deployment.pk}/upload/", {"files": files})
    client.logout()
    batch = cn_deployment.batches.get()
    fake, cut = (process(batch.media.get(original_name=name)) for name in ("fake.JPG", "cut.JPG"))
    return batch, fake, cut


SENTENCES = [
    "The file is not an image that can be read.",
    "The file is empty: the camera may have lost power while writing it.",
    "The file is not an image: only JPEG, PNG, TIFF, HEIF and WebP images are imported.",
    CUT_SHORT,
]
DETAILS = [
    "OSError: Truncated File Read",  # the failure, as Pillow said it
    "0 bytes",  # the empty file
    "starts with 62 61 74 74 65 72 79 20 38 37 25 2c 20 33 20 74",  # "battery 87%, 3 t"
    "image file is truncated (13 bytes not processed)",  # the truncated image's warning
]


@pytest.mark.parametrize(("user", "sees_details"), [("alice", False), ("site_admin", True)])
def test_the_technical_detail_is_for_site_admins_only(
    client, request, troubles, user, sees_details
):
    batch, fake, cut = troubles
    client.force_login(request.getfixturevalue(user))
    pages = [client.get(url) for url in (f"/batches/{batch.pk}/", f"/media/{fake.pk}/")]
    pages.append(client.get(f"/media/{cut.pk}/"))
    assert [page.status_code for page in pages] == [200, 200, 200]
    text = "".join(page.content.decode() for page in pages)
    for sentence in SENTENCES:
        assert sentence in text
    assert [detail in text for detail in DETAILS] == [sees_details] * len(DETAILS)
    [failed] = client.get(f"/batches/{batch.pk}/progress/").json()["failed"]
    assert failed["reason"] == "The file is not an image that can be read."
    assert failed.get("detail") == (DETAILS[0] if sees_details else None)
    # Never a Python repr, not even for a site admin.
    assert "b&#x27;" not in text and "b'" not in text


def test_truncated_images_are_counted_on_the_batch_page_and_flagged(
    client, alice, cn_deployment, troubles
):
    batch, _, cut = troubles
    client.force_login(alice)
    text = client.get(f"/batches/{batch.pk}/").content.decode()
    assert '<dd id="count-truncated">1</dd>' in text
    assert "1 image is truncated: the camera may have lost power while writing it." in text
    assert client.get(f"/batches/{batch.pk}/progress/").json()["truncated"] == 1
    listed = client.get(f"/deployments/{cn_deployment.pk}/").content.decode()
    assert '<span class="badge badge-warn">truncated</span>' in listed
    assert f'src="/media/{cut.pk}/thumbnail/"' in listed


def test_an_original_is_served_as_what_it_is_never_as_a_page(client, alice, cn_deployment):
    # A valid JPEG with a script in a comment, named view.html: stored as a JPEG, served as
    # one (inline, as browsers show images), never sniffed, and sandboxed should anything
    # still try to treat it as a document.
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "olive").save(buffer, "JPEG", comment=b"<script>alert(1)</script>")
    media = process(add(cn_deployment, alice, Path("view.html"), buffer.getvalue()))
    tiff = io.BytesIO()
    Image.new("RGB", (64, 48), "olive").save(tiff, "TIFF")
    scan = process(add(cn_deployment, alice, Path("scan.html"), tiff.getvalue()))
    client.force_login(alice)
    response = client.get(f"/media/{media.pk}/original/")
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"] == 'inline; filename="view.jpg"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert "script-src" not in response["Content-Security-Policy"]  # default-src 'none'
    # A format browsers do not show is a download.
    response = client.get(f"/media/{scan.pk}/original/")
    assert response["Content-Type"] == "image/tiff"
    assert response["Content-Disposition"] == 'attachment; filename="scan.tif"'
    for kind in ("preview", "thumbnail"):
        derivative = client.get(f"/media/{media.pk}/{kind}/")
        assert derivative["Content-Type"] == "image/jpeg"
        assert b"<script>" not in b"".join(derivative.streaming_content)
