from __future__ import annotations

import hashlib
import io
import struct
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory

from sightings import views
from sightings.models import Media, SkippedFile, UploadBatch

from .conftest import CAMTRAPR

STATION_A = CAMTRAPR / "sample_images_species_dir" / "StationA"
IMAGE = STATION_A / "PBE" / "StationA__2009-04-21__00-40-00(1).JPG"
OTHER_IMAGE = STATION_A / "VTA" / "StationA__2009-04-10__05-07-00(1).JPG"


def upload_url(deployment) -> str:
    return f"/deployments/{deployment.pk}/upload/"


def as_upload(path: Path, name: str | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name or path.name, path.read_bytes(), "image/jpeg")


def zip_of(entries: dict[str, bytes]) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return SimpleUploadedFile("card.zip", buffer.getvalue(), "application/zip")


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


def test_an_empty_file_does_not_stop_the_others(client, alice, cn_deployment):
    client.force_login(alice)
    empty = SimpleUploadedFile("empty.JPG", b"", "image/jpeg")
    response = client.post(upload_url(cn_deployment), {"files": [empty, as_upload(IMAGE)]})
    assert response.status_code == 302
    sizes = dict(Media.objects.values_list("original_name", "file_size"))
    assert sizes == {"empty.JPG": 0, IMAGE.name: IMAGE.stat().st_size}


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


def test_it_lists_non_image_entries_as_skipped(client, alice, cn_deployment):
    client.force_login(alice)
    entries = {
        "DCIM/notes.txt": b"battery low",
        "DCIM/clip.MP4": b"\0" * 10,
        "DCIM/x.jpg": IMAGE.read_bytes(),
    }
    client.post(upload_url(cn_deployment), {"files": [zip_of(entries)]})
    skipped = {f.name: (f.reason, f.detail) for f in SkippedFile.objects.all()}
    assert skipped == {
        "DCIM/notes.txt": ("not_an_image", "Only image files are imported."),
        "DCIM/clip.MP4": ("not_an_image", "Videos are not supported yet."),
    }
    assert Media.objects.get().folder == "DCIM"


def test_it_limits_the_number_of_entries(client, alice, cn_deployment, settings):
    settings.ZIP_MAX_ENTRIES = 2
    client.force_login(alice)
    entries = {f"{n}.jpg": IMAGE.read_bytes() + bytes([n]) for n in range(3)}
    client.post(upload_url(cn_deployment), {"files": [zip_of(entries)]})
    skipped = SkippedFile.objects.get()
    assert (skipped.name, skipped.reason, skipped.detail) == (
        "card.zip",
        "archive_limit",
        "3 entries, limit 2",
    )
    assert not Media.objects.exists()


def test_it_limits_the_unpacked_size(client, alice, cn_deployment, settings):
    settings.ZIP_MAX_UNPACKED_BYTES = 1000
    client.force_login(alice)
    client.post(upload_url(cn_deployment), {"files": [zip_of({"big.jpg": b"\0" * 1001})]})
    skipped = SkippedFile.objects.get()
    assert (skipped.reason, skipped.detail) == ("archive_limit", "1001 bytes unpacked, limit 1000")
    assert not Media.objects.exists()


def test_it_stops_an_entry_that_unpacks_to_more_than_it_declares(client, alice, cn_deployment):
    client.force_login(alice)
    archive = zip_of({"bomb.jpg": b"\0" * 1_000_000, "fine.jpg": IMAGE.read_bytes()})
    data = bytearray(archive.read())
    # Make the central directory claim that bomb.jpg unpacks to 1,000 bytes.
    directory = data.index(b"PK\x01\x02")
    data[directory + 24 : directory + 28] = struct.pack("<I", 1000)
    lying = SimpleUploadedFile("card.zip", bytes(data), "application/zip")
    client.post(upload_url(cn_deployment), {"files": [lying]})
    skipped = SkippedFile.objects.get()
    assert (skipped.name, skipped.reason) == ("bomb.jpg", "broken_archive")
    assert skipped.detail == "Bad CRC-32 for file 'bomb.jpg'"
    assert Media.objects.get().original_name == "fine.jpg"


def test_it_reports_a_broken_archive(client, alice, cn_deployment):
    client.force_login(alice)
    broken = SimpleUploadedFile(
        "card.zip", b"PK\x03\x04 this is not really a zip", "application/zip"
    )
    client.post(upload_url(cn_deployment), {"files": [broken, as_upload(IMAGE)]})
    assert SkippedFile.objects.get().reason == "broken_archive"
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
    big = SimpleUploadedFile("big.jpg", b"\xff\xd8" + bytes(size // 2), "image/jpeg")
    archive = zip_of({"card/big2.jpg": b"\xff\xd8\x01" + bytes(size // 2)})
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
