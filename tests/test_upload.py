from __future__ import annotations

import hashlib
import io
import re
import struct
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from PIL import Image

from sightings import views
from sightings.models import Media, SkippedFile, UploadBatch

from .conftest import CAMTRAPR, wait_until

STATION_A = CAMTRAPR / "sample_images_species_dir" / "StationA"
IMAGE = STATION_A / "PBE" / "StationA__2009-04-21__00-40-00(1).JPG"
OTHER_IMAGE = STATION_A / "VTA" / "StationA__2009-04-10__05-07-00(1).JPG"
ONLY_IMAGES = "The file is not an image: only JPEG, PNG, TIFF, HEIF and WebP images are imported."
VIDEOS = "Videos are not supported yet."
EMPTY = "The file is empty: the camera may have lost power while writing it."
TOO_LARGE = "The file is larger than this site accepts."
BATCH_FULL = "The batch already holds as many files as allowed: upload the rest in a new batch."
DUPLICATE = "The same file was uploaded before, so it is not stored again."
JPEG_START = b"\xff\xd8\xff\xe0"


def upload_url(deployment) -> str:
    return f"/deployments/{deployment.pk}/upload/"


def as_upload(path: Path, name: str | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name or path.name, path.read_bytes(), "image/jpeg")


def zip_of(
    entries: dict[str, bytes], name: str = "card.zip", compression: int = zipfile.ZIP_STORED
) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for entry, data in entries.items():
            archive.writestr(entry, data)
    return SimpleUploadedFile(name, buffer.getvalue(), "application/zip")


def bytes_written() -> int:
    """What this process has written so far (files, sockets), as Linux counts it."""
    io_counts = Path("/proc/self/io").read_text()
    return int(re.search(r"^wchar: (\d+)$", io_counts, re.MULTILINE)[1])


def skipped() -> list[tuple[str, str, str, str]]:
    """Each skipped file: name, reason, the sentence for the uploader, the detail for admins."""
    return [(f.name, f.reason, f.message, f.detail) for f in SkippedFile.objects.order_by("pk")]


def test_it_requires_login(client, cn_deployment):
    response = client.get(upload_url(cn_deployment))
    assert response.status_code == 302
    assert response.url.startswith("/login/")


def test_it_shows_the_form_to_an_uploader(client, alice, cn_deployment):
    client.force_login(alice)
    response = client.get(upload_url(cn_deployment))
    assert response.status_code == 200
    assert b'name="files"' in response.content


@pytest.mark.parametrize("method", ["get", "post"])
def test_it_forbids_another_teams_deployment(client, alice, ru_deployment, method):
    client.force_login(alice)
    response = getattr(client, method)(upload_url(ru_deployment), {"files": as_upload(IMAGE)})
    assert response.status_code == 403
    assert not Media.objects.exists()


def test_it_forbids_a_reviewer(client, boris, ru_deployment):
    client.force_login(boris)
    response = client.post(upload_url(ru_deployment), {"files": as_upload(IMAGE)})
    assert response.status_code == 403
    assert not UploadBatch.objects.exists()


@pytest.mark.parametrize("user", ["charlie", "site_admin"])
def test_it_forbids_users_without_the_uploader_role(client, request, cn_deployment, user):
    client.force_login(request.getfixturevalue(user))
    response = client.post(upload_url(cn_deployment), {"files": as_upload(IMAGE)})
    assert response.status_code == 403


def test_a_post_without_files_makes_no_batch(client, alice, cn_deployment):
    client.force_login(alice)
    response = client.post(upload_url(cn_deployment), {"batch": ""}, HTTP_ACCEPT="application/json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["files"]
    assert not UploadBatch.objects.exists()


def test_it_stores_files_by_hash_and_queues_them(
    client, alice, cn_deployment, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            upload_url(cn_deployment), {"files": [as_upload(IMAGE), as_upload(OTHER_IMAGE)]}
        )
    batch = UploadBatch.objects.get()
    assert response.status_code == 302
    assert response.url == f"/batches/{batch.pk}/"
    media = Media.objects.get(original_name=IMAGE.name)
    sha256 = hashlib.sha256(IMAGE.read_bytes()).hexdigest()
    assert media.sha256 == sha256
    assert media.file.name == f"originals/{sha256[:2]}/{sha256[2:4]}/{sha256}.jpg"
    assert default_storage.open(media.file.name).read() == IMAGE.read_bytes()
    assert (media.state, media.batch, media.deployment) == ("queued", batch, cn_deployment)
    assert media.file_size == IMAGE.stat().st_size
    assert len(callbacks) == 2  # one processing task per file, sent after the commit


def test_an_empty_file_is_skipped_and_does_not_stop_the_others(client, alice, cn_deployment):
    client.force_login(alice)
    empty = SimpleUploadedFile("empty.JPG", b"", "image/jpeg")
    response = client.post(upload_url(cn_deployment), {"files": [empty, as_upload(IMAGE)]})
    assert response.status_code == 302
    sizes = dict(Media.objects.values_list("original_name", "file_size"))
    assert sizes == {IMAGE.name: IMAGE.stat().st_size}
    assert skipped() == [("empty.JPG", "not_an_image", EMPTY, "0 bytes")]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("view.jpg", b"<!DOCTYPE html><script>alert(1)</script>", ONLY_IMAGES),
        ("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg"/>', ONLY_IMAGES),
        ("report.jpg", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", ONLY_IMAGES),
        ("notes.JPG", b"battery 87%, 3 triggers\n", ONLY_IMAGES),
        ("IMG_0001.JPG", b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom", VIDEOS),
        ("IMG_0002.AVI", b"RIFF\x00\x10\x00\x00AVI LIST", VIDEOS),
    ],
)
def test_files_that_are_no_image_are_skipped_whatever_their_name(
    client, alice, cn_deployment, media_root, name, data, message
):
    client.force_login(alice)
    client.post(upload_url(cn_deployment), {"files": [SimpleUploadedFile(name, data)]})
    # The detail, for site admins: the first bytes in hex.
    assert skipped() == [(name, "not_an_image", message, f"starts with {data[:16].hex(' ')}")]
    assert not Media.objects.exists()
    assert not list((media_root / "originals").rglob(hashlib.sha256(data).hexdigest() + "*"))


def test_the_stored_name_takes_the_suffix_of_the_content(client, alice, cn_deployment):
    client.force_login(alice)
    png = io.BytesIO()
    Image.new("RGB", (4, 4)).save(png, "PNG")
    uploads = [as_upload(IMAGE, "view.html"), SimpleUploadedFile("photo.jpg", png.getvalue())]
    client.post(upload_url(cn_deployment), {"files": uploads})
    stored = {m.original_name: (m.format, Path(m.file.name).suffix) for m in Media.objects.all()}
    assert stored == {"view.html": ("jpeg", ".jpg"), "photo.jpg": ("png", ".png")}


def test_it_reports_duplicates_within_and_across_batches(client, alice, cn_deployment):
    client.force_login(alice)
    client.post(
        upload_url(cn_deployment), {"files": [as_upload(IMAGE), as_upload(IMAGE, "copy.JPG")]}
    )
    client.post(upload_url(cn_deployment), {"files": [as_upload(IMAGE, "again.JPG")]})
    original = Media.objects.get()
    skipped = SkippedFile.objects.order_by("pk")
    assert [(file.name, file.reason, file.duplicate_of) for file in skipped] == [
        ("copy.JPG", "duplicate", original),
        ("again.JPG", "duplicate", original),
    ]
    second = UploadBatch.objects.order_by("pk").last()
    assert second.progress()["duplicates"] == 1
    assert second.progress()["total"] == 0


def test_it_unpacks_card_folders_from_a_zip(client, alice, cn_deployment):
    client.force_login(alice)
    files = sorted(STATION_A.rglob("*.JPG"))
    archive = zip_of({f"StationA/{f.parent.name}/{f.name}": f.read_bytes() for f in files})
    client.post(upload_url(cn_deployment), {"files": [archive]})
    media = Media.objects.order_by("folder", "original_name")
    assert [(m.folder, m.original_name) for m in media] == [
        (f"StationA/{f.parent.name}", f.name) for f in files
    ]
    assert media[0].sha256 == hashlib.sha256(files[0].read_bytes()).hexdigest()
    assert not SkippedFile.objects.exists()


def test_it_refuses_paths_that_escape_the_archive(client, alice, cn_deployment, media_root):
    client.force_login(alice)
    data = IMAGE.read_bytes()
    names = ["../evil.jpg", "/etc/evil.jpg", "C:\\Windows\\evil.jpg", "a/../../evil.jpg"]
    client.post(upload_url(cn_deployment), {"files": [zip_of(dict.fromkeys(names, data))]})
    skipped = SkippedFile.objects.order_by("pk")
    assert [(f.name, f.reason) for f in skipped] == [(name, "unsafe_path") for name in names]
    assert not Media.objects.exists()
    assert not list(media_root.parent.glob("evil.jpg"))


def test_it_types_archive_entries_by_their_content(client, alice, cn_deployment):
    client.force_login(alice)
    entries = {
        "DCIM/notes.txt": b"battery low",
        "DCIM/clip.MP4": b"\x00\x00\x00\x1cftypisom\x00\x00\x02\x00isomiso2",
        "DCIM/page.jpg": b"<html><body onload=alert(1)>",
        "DCIM/inner.zip": zip_of({"a.jpg": IMAGE.read_bytes()}).read(),
        "DCIM/empty.JPG": b"",
        "DCIM/x.dat": IMAGE.read_bytes(),
    }
    client.post(upload_url(cn_deployment), {"files": [zip_of(entries)]})
    nested = "Archives inside archives are not unpacked: upload the inner archive on its own."
    assert [(name, reason, message) for name, reason, message, _ in skipped()] == [
        ("DCIM/notes.txt", "not_an_image", ONLY_IMAGES),
        ("DCIM/clip.MP4", "not_an_image", VIDEOS),
        ("DCIM/page.jpg", "not_an_image", ONLY_IMAGES),
        ("DCIM/inner.zip", "not_an_image", nested),
        ("DCIM/empty.JPG", "not_an_image", EMPTY),
    ]
    media = Media.objects.get()
    assert (media.folder, media.original_name, media.format) == ("DCIM", "x.dat", "jpeg")
    assert media.file.name.endswith(".jpg")


def test_a_zip_is_told_by_its_signature_not_its_name(client, alice, cn_deployment):
    client.force_login(alice)
    archive = zip_of({"StationA/a.jpg": IMAGE.read_bytes()}, name="card.jpg")
    not_a_zip = SimpleUploadedFile("photos.zip", b"These are not the photos.")
    client.post(upload_url(cn_deployment), {"files": [archive, not_a_zip]})
    assert Media.objects.get().folder == "StationA"
    head = "54 68 65 73 65 20 61 72 65 20 6e 6f 74 20 74 68"  # "These are not th"
    assert skipped() == [("photos.zip", "not_an_image", ONLY_IMAGES, f"starts with {head}")]


def test_it_limits_the_number_of_entries(client, alice, cn_deployment, settings):
    settings.ZIP_MAX_ENTRIES = 2
    client.force_login(alice)
    entries = {f"{n}.jpg": IMAGE.read_bytes() + bytes([n]) for n in range(3)}
    client.post(upload_url(cn_deployment), {"files": [zip_of(entries)]})
    message = (
        "The archive holds more files than may be unpacked at once: split the card into "
        "several archives."
    )
    assert skipped() == [("card.zip", "archive_limit", message, "3 entries, limit 2")]
    assert not Media.objects.exists()


def test_it_limits_the_unpacked_size_on_the_bytes_written(
    client, alice, cn_deployment, settings, media_root
):
    settings.ZIP_MAX_UNPACKED_BYTES = IMAGE.stat().st_size + 100_000
    entries = {"a.jpg": IMAGE.read_bytes(), "b.jpg": JPEG_START + bytes(200_000), "c.txt": b"x"}
    archive = zip_of(entries, compression=zipfile.ZIP_DEFLATED)
    incoming = set((media_root / "incoming").iterdir())
    client.force_login(alice)
    client.post(upload_url(cn_deployment), {"files": [archive]})
    assert Media.objects.get().original_name == "a.jpg"  # the entries before it are kept
    limit = settings.ZIP_MAX_UNPACKED_BYTES
    message = (
        "The archive unpacks to more than may be unpacked at once: split the card into "
        "several archives."
    )
    assert skipped() == [
        ("b.jpg", "archive_limit", message, f"over {limit} bytes unpacked, the limit"),
        ("c.txt", "not_an_image", ONLY_IMAGES, "starts with 78"),
    ]
    assert set((media_root / "incoming").iterdir()) == incoming  # what b.jpg began is gone


def test_an_entry_past_the_file_size_limit_is_skipped_alone(client, alice, cn_deployment, settings):
    settings.UPLOAD_MAX_FILE_BYTES = 100_000
    big = JPEG_START + bytes(300_000)
    client.force_login(alice)
    archive = zip_of(
        {"a.jpg": IMAGE.read_bytes(), "big.jpg": big, "b.jpg": OTHER_IMAGE.read_bytes()}
    )
    client.post(upload_url(cn_deployment), {"files": [archive]})
    assert sorted(Media.objects.values_list("original_name", flat=True)) == ["a.jpg", "b.jpg"]
    detail = f"{len(big)} bytes, limit 100000 bytes"
    assert skipped() == [("big.jpg", "too_large", TOO_LARGE, detail)]


def test_a_zip_bomb_writes_little_and_the_entries_before_it_are_kept(client, alice, cn_deployment):
    archive = SimpleUploadedFile("card.zip", zip_bomb(IMAGE.read_bytes(), 2 * 1024**3))
    assert 2_000_000 < archive.size < 2_200_000  # 2 GiB behind a JPEG signature
    client.force_login(alice)
    before = bytes_written()
    client.post(upload_url(cn_deployment), {"files": [archive, as_upload(OTHER_IMAGE)]})
    # ZIP_MAX_RATIO is 10: at most ten times the archive is written, then dropped.
    assert bytes_written() - before < 11 * archive.size
    ratio_detail = f"unpacks to over 10 times the archive's {archive.size} bytes, the limit"
    message = (
        "The archive unpacks to many times its own size, which camera images never do: the "
        "rest of it was not unpacked."
    )
    assert skipped() == [("bomb.jpg", "archive_limit", message, ratio_detail)]
    names = Media.objects.values_list("original_name", flat=True)
    assert sorted(names) == sorted(["a.jpg", OTHER_IMAGE.name])


def zip_bomb(image: bytes, size: int) -> bytes:
    """A ZIP of a.jpg and bomb.jpg, size bytes of zeros after a JPEG signature that deflate
    to a thousandth: one deflated MiB repeated, as bombs are made."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    zeros = bytes(1 << 20)
    first = deflate.compress(JPEG_START + zeros[4:]) + deflate.flush(zlib.Z_FULL_FLUSH)
    again = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
    stream = first + again * (size // len(zeros) - 1) + deflate.flush()
    # CRC-32s of zeros are not worth computing: unpacking stops long before they are checked.
    entries = [("a.jpg", 0, zlib.crc32(image), image, len(image)), ("bomb.jpg", 8, 0, stream, size)]
    local, central = b"", b""
    for name, method, crc, data, unpacked in entries:
        fields = (method, 0, 0, crc, len(data), unpacked, len(name))
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, *fields, 0, 0, 0, 0, 0, len(local)
        )
        central += name.encode()
        local += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, *fields, 0) + name.encode() + data
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 2, 2, len(central), len(local), 0)
    return local + central + end


def test_it_stops_an_entry_that_unpacks_to_more_than_it_declares(client, alice, cn_deployment):
    client.force_login(alice)
    archive = zip_of({"bomb.jpg": JPEG_START + bytes(1_000_000), "fine.jpg": IMAGE.read_bytes()})
    data = bytearray(archive.read())
    # Make the central directory claim that bomb.jpg unpacks to 1,000 bytes.
    directory = data.index(b"PK\x01\x02")
    data[directory + 24 : directory + 28] = struct.pack("<I", 1000)
    lying = SimpleUploadedFile("card.zip", bytes(data), "application/zip")
    client.post(upload_url(cn_deployment), {"files": [lying]})
    message = "This file could not be unpacked: the archive is damaged."
    assert skipped() == [("bomb.jpg", "broken_archive", message, "Bad CRC-32 for file 'bomb.jpg'")]
    assert Media.objects.get().original_name == "fine.jpg"


def test_an_encrypted_entry_is_skipped_as_broken(client, alice, cn_deployment):
    data = bytearray(
        zip_of({"locked.jpg": IMAGE.read_bytes(), "b.jpg": OTHER_IMAGE.read_bytes()}).read()
    )
    data[6] |= 1  # the first entry's "encrypted" flag, in its local header and directory entry
    data[data.index(b"PK\x01\x02") + 8] |= 1
    client.force_login(alice)
    response = client.post(
        upload_url(cn_deployment), {"files": [SimpleUploadedFile("c.zip", bytes(data))]}
    )
    assert response.status_code == 302
    message = (
        "This file is protected by a password in the archive: pack the card again without one."
    )
    assert skipped() == [("locked.jpg", "broken_archive", message, "encrypted, password required")]
    assert Media.objects.get().original_name == "b.jpg"


def test_it_reports_a_broken_archive(client, alice, cn_deployment):
    client.force_login(alice)
    broken = SimpleUploadedFile(
        "card.zip", b"PK\x03\x04 this is not really a zip", "application/zip"
    )
    client.post(upload_url(cn_deployment), {"files": [broken, as_upload(IMAGE)]})
    [(name, reason, message, _)] = skipped()
    assert (name, reason, message) == (
        "card.zip",
        "broken_archive",
        "The archive is damaged and could not be unpacked.",
    )
    assert Media.objects.get().original_name == IMAGE.name


def test_it_keeps_the_folder_of_files_from_the_folder_picker(client, alice, cn_deployment):
    client.force_login(alice)
    client.post(
        upload_url(cn_deployment),
        {"files": [as_upload(IMAGE)], "paths": ["card/StationA/PBE/" + IMAGE.name]},
    )
    assert Media.objects.get().folder == "card/StationA/PBE"


def test_scripted_uploads_add_requests_to_one_batch(client, alice, cn_deployment):
    client.force_login(alice)
    first = client.post(
        upload_url(cn_deployment),
        {"files": [as_upload(IMAGE)]},
        headers={"Accept": "application/json"},
    ).json()
    client.post(
        upload_url(cn_deployment),
        {"files": [as_upload(OTHER_IMAGE)], "batch": first["batch"]},
        headers={"Accept": "application/json"},
    )
    batch = UploadBatch.objects.get()
    assert first == {"batch": batch.pk, "url": f"/batches/{batch.pk}/"}
    assert batch.media.count() == 2


def test_it_refuses_to_add_to_someone_elses_batch(client, alice, cn_deployment, django_user_model):
    other = django_user_model.objects.create_user("ling")
    batch = UploadBatch.objects.create(deployment=cn_deployment, uploaded_by=other)
    client.force_login(alice)
    response = client.post(
        upload_url(cn_deployment), {"files": [as_upload(IMAGE)], "batch": batch.pk}
    )
    assert response.status_code == 404
    assert not Media.objects.exists()


def test_it_streams_uploads_without_holding_them_in_memory(alice, cn_deployment):
    # 64 MiB of files (a loose file and a ZIP), with a memory budget of 8 MiB for the request.
    size = 64 * 1024 * 1024
    big = SimpleUploadedFile("big.jpg", JPEG_START + bytes(size // 2), "image/jpeg")
    archive = zip_of({"card/big2.jpg": JPEG_START + b"\x01" + bytes(size // 2)})
    request = RequestFactory().post(upload_url(cn_deployment), {"files": [big, archive]})
    request.user = alice
    tracemalloc.start()
    try:
        response = views.upload(request, cn_deployment.pk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        request.close()
    assert response.status_code == 302
    assert Media.objects.count() == 2
    assert peak < 8 * 1024 * 1024


def test_species_folders_of_a_card_are_noted_for_naming(client, alice, cn_deployment):
    client.force_login(alice)
    entries = {
        "StationA/Leopard cat/a.jpg": IMAGE.read_bytes(),
        "StationA/PBE/b.jpg": OTHER_IMAGE.read_bytes(),
    }
    client.post(upload_url(cn_deployment), {"files": [zip_of(entries)]})
    folders = {
        f.name: f.species and f.species.scientific_name
        for f in UploadBatch.objects.get().folders.all()
    }
    assert folders == {"Leopard cat": "Prionailurus bengalensis", "PBE": None}
    assert Media.objects.get(original_name="a.jpg").folder_species.name_en == "Leopard cat"


# Limits: a file past one is skipped with the reason, the rest of the request goes through.


def test_a_file_past_the_size_limit_stops_being_written_at_once(
    client, alice, cn_deployment, settings, media_root
):
    settings.UPLOAD_MAX_FILE_BYTES = 1024 * 1024
    big = SimpleUploadedFile("big.jpg", JPEG_START + bytes(20 * 1024 * 1024))
    incoming = set((media_root / "incoming").iterdir())
    client.force_login(alice)
    before = bytes_written()
    client.post(upload_url(cn_deployment), {"files": [big, as_upload(IMAGE)]})
    assert bytes_written() - before < 2 * 1024 * 1024  # not the 20 MiB
    detail = f"{20 * 1024 * 1024 + 4} bytes, limit 1048576 bytes"
    assert skipped() == [("big.jpg", "too_large", TOO_LARGE, detail)]
    assert Media.objects.get().original_name == IMAGE.name
    assert set((media_root / "incoming").iterdir()) == incoming  # what it began is gone


@pytest.mark.django_db(transaction=True)
def test_an_image_sent_with_an_oversize_one_is_processed(
    client, alice, cn_deployment, settings, celery_worker
):
    settings.UPLOAD_MAX_FILE_BYTES = 1024 * 1024
    oversize = SimpleUploadedFile("huge.JPG", JPEG_START + bytes(3 * 1024 * 1024))
    client.force_login(alice)
    client.post(upload_url(cn_deployment), {"files": [oversize, as_upload(IMAGE)]})
    batch = UploadBatch.objects.get()
    wait_until(lambda: batch.progress()["done"], 60, celery_worker.text())
    media = batch.media.get()
    assert (media.original_name, media.state, media.width, media.camera_time) == (
        IMAGE.name,
        "processed",
        100,
        "2009-04-21T00:40:00",
    )
    detail = f"{3 * 1024 * 1024 + 4} bytes, limit 1048576 bytes"
    assert skipped() == [("huge.JPG", "too_large", TOO_LARGE, detail)]


def test_an_archive_may_be_as_large_as_may_be_unpacked(client, alice, cn_deployment, settings):
    settings.UPLOAD_MAX_FILE_BYTES = 1000
    archive = zip_of({"a.jpg": IMAGE.read_bytes()})
    client.force_login(alice)
    client.post(upload_url(cn_deployment), {"files": [archive]})
    # Its entry is still held to the file size limit.
    size = IMAGE.stat().st_size
    assert skipped() == [("a.jpg", "too_large", TOO_LARGE, f"{size} bytes, limit 1000 bytes")]
    settings.ZIP_MAX_UNPACKED_BYTES = 2000
    client.post(upload_url(cn_deployment), {"files": [zip_of({"a.jpg": IMAGE.read_bytes()})]})
    detail = f"{archive.size} bytes, limit 2000 bytes"
    assert skipped()[1] == ("card.zip", "too_large", TOO_LARGE, detail)


def test_images_past_the_batch_limit_are_skipped_and_the_rest_kept(
    client, alice, cn_deployment, settings
):
    settings.UPLOAD_MAX_BATCH_FILES = 2
    third, fourth = sorted((STATION_A / "PBE").glob("*.JPG"))[1:3]
    files = [as_upload(IMAGE), as_upload(IMAGE), as_upload(OTHER_IMAGE), as_upload(third)]
    client.force_login(alice)
    json = {"Accept": "application/json"}
    first = client.post(upload_url(cn_deployment), {"files": files}, headers=json).json()
    archive = zip_of({"c/" + fourth.name: fourth.read_bytes()})
    client.post(upload_url(cn_deployment), {"files": [archive], "batch": first["batch"]})
    stored = UploadBatch.objects.get().media.values_list("original_name", flat=True)
    assert sorted(stored) == sorted([IMAGE.name, OTHER_IMAGE.name])
    assert skipped() == [
        (IMAGE.name, "duplicate", DUPLICATE, ""),  # duplicates take no room in the batch
        (third.name, "batch_limit", BATCH_FULL, "limit 2 files per batch"),
        ("c/" + fourth.name, "batch_limit", BATCH_FULL, "limit 2 files per batch"),
    ]


def test_a_request_with_too_many_files_is_refused_whole(
    client, alice, cn_deployment, settings, media_root
):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    incoming = set((media_root / "incoming").iterdir())
    client.force_login(alice)
    files = [as_upload(IMAGE), as_upload(OTHER_IMAGE), as_upload(IMAGE, "third.JPG")]
    response = client.post(upload_url(cn_deployment), {"files": files})
    assert response.status_code == 400
    assert not UploadBatch.objects.exists()
    assert set((media_root / "incoming").iterdir()) == incoming
