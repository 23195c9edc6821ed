from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.test import RequestFactory
from django.utils import timezone

from sightings import resumable
from sightings.models import Media, ResumableUpload, SkippedFile, UploadBatch

from .conftest import CAMTRAPR, LoginClient

STATION_A = CAMTRAPR / "sample_images_species_dir" / "StationA"
IMAGE = STATION_A / "PBE" / "StationA__2009-04-21__00-40-00(1).JPG"
OTHER_IMAGE = STATION_A / "VTA" / "StationA__2009-04-10__05-07-00(1).JPG"
TUS = {"Tus-Resumable": "1.0.0"}
CHUNK = "application/offset+octet-stream"


def metadata(**values: str) -> str:
    return ",".join(
        f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in values.items()
    )


def create(client, deployment, size: int, path: str = "IMG_0001.JPG", **extra: str):
    headers = {**TUS, "Upload-Length": str(size), "Upload-Metadata": metadata(path=path, **extra)}
    return client.generic("POST", f"/deployments/{deployment.pk}/uploads/", headers=headers)


def patch(client, url: str, offset: int, data: bytes):
    headers = {**TUS, "Upload-Offset": str(offset)}
    return client.generic("PATCH", url, data, content_type=CHUNK, headers=headers)


def send(client, deployment, data: bytes, path: str = "IMG_0001.JPG", chunk: int = 10_000, **extra):
    """Create an upload and send all of it in chunks; return its address."""
    url = create(client, deployment, len(data), path, **extra)["Location"]
    for offset in range(0, len(data), chunk):
        assert patch(client, url, offset, data[offset : offset + chunk]).status_code == 204
    return url


def ask(client, method: str, url: str):
    """A HEAD, a chunk or a DELETE for the upload at url."""
    if method == "patch":
        return patch(client, url, 0, b"\xff\xd8\xff" + b"x" * 7)
    return getattr(client, method)(url, headers=TUS)


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


def test_options_says_what_the_server_supports(alice_client, cn_deployment, settings):
    settings.UPLOAD_MAX_FILE_BYTES, settings.ZIP_MAX_UNPACKED_BYTES = 1000, 5000
    response = alice_client.options(f"/deployments/{cn_deployment.pk}/uploads/")
    assert response.status_code == 204
    assert response["Tus-Version"] == "1.0.0"
    assert response["Tus-Extension"] == "creation,termination"
    assert response["Tus-Max-Size"] == "5000"


def test_creation_records_who_sends_what_where(alice_client, alice, cn_deployment, media_root):
    response = create(alice_client, cn_deployment, 1234, "StationA/PBE/IMG_0001.JPG")
    upload = ResumableUpload.objects.get()
    assert response.status_code == 201
    assert response["Location"] == f"/uploads/{upload.pk}/"
    assert response["Tus-Resumable"] == "1.0.0"
    assert (upload.owner, upload.deployment, upload.batch.deployment) == (
        alice, cn_deployment, cn_deployment
    )  # fmt: skip
    assert (upload.path, upload.size, upload.offset) == ("StationA/PBE/IMG_0001.JPG", 1234, 0)
    assert (media_root / "incoming" / "resumable" / upload.pk.hex).read_bytes() == b""


def test_creation_joins_the_batch_the_page_made(alice_client, cn_deployment):
    response = alice_client.post(f"/deployments/{cn_deployment.pk}/batches/")
    batch = UploadBatch.objects.get()
    assert response.json() == {"batch": batch.pk, "url": f"/batches/{batch.pk}/"}
    create(alice_client, cn_deployment, 10, batch=str(batch.pk))
    assert ResumableUpload.objects.get().batch == batch


def test_creation_refuses_another_uploaders_batch(
    client, alice, cn_team, cn_deployment, django_user_model
):
    other = UploadBatch.objects.create(deployment=cn_deployment, uploaded_by=alice)
    colleague = django_user_model.objects.create_user("chen", password="password")
    cn_team.memberships.create(user=colleague, role="uploader")
    client.force_login(colleague)
    assert create(client, cn_deployment, 10, batch=str(other.pk)).status_code == 404
    assert not ResumableUpload.objects.exists()


def test_head_says_how_much_arrived(alice_client, cn_deployment):
    data = IMAGE.read_bytes()
    url = create(alice_client, cn_deployment, len(data))["Location"]
    patch(alice_client, url, 0, data[:5000])
    response = alice_client.head(url, headers=TUS)
    assert response.status_code == 200
    assert (response["Upload-Offset"], response["Upload-Length"]) == ("5000", str(len(data)))
    assert response["Cache-Control"] == "no-store"


def test_chunks_are_written_in_place(alice_client, cn_deployment, media_root):
    data = IMAGE.read_bytes()
    url = create(alice_client, cn_deployment, len(data))["Location"]
    response = patch(alice_client, url, 0, data[:4000])
    assert (response.status_code, response["Upload-Offset"]) == (204, "4000")
    response = patch(alice_client, url, 4000, data[4000:9000])
    assert (response.status_code, response["Upload-Offset"]) == (204, "9000")
    upload = ResumableUpload.objects.get()
    assert (media_root / "incoming/resumable" / upload.pk.hex).read_bytes() == data[:9000]


class CutConnection(io.BytesIO):
    """A request body whose connection drops after the bytes given."""

    def read(self, size: int = -1) -> bytes:
        chunk = super().read(size)
        if not chunk:
            raise OSError("Connection reset by peer")
        return chunk


def test_what_arrived_before_the_connection_dropped_is_kept(alice, cn_deployment, media_root):
    client = LoginClient()
    client.force_login(alice)
    data = IMAGE.read_bytes()
    url = create(client, cn_deployment, len(data))["Location"]
    headers = {**TUS, "Upload-Offset": "0"}
    request = RequestFactory().generic("PATCH", url, data, content_type=CHUNK, headers=headers)
    request.user = alice
    request._stream = CutConnection(data[:6000])  # of the 27 KB announced, 6 KB arrive
    resumable.upload(request, ResumableUpload.objects.get().pk)
    upload = ResumableUpload.objects.get()
    assert upload.offset == 6000
    assert resumable.partial_path(upload).read_bytes() == data[:6000]
    assert client.head(url, headers=TUS)["Upload-Offset"] == "6000"


def test_a_chunk_at_the_wrong_offset_is_refused(alice_client, cn_deployment):
    data = IMAGE.read_bytes()
    url = create(alice_client, cn_deployment, len(data))["Location"]
    patch(alice_client, url, 0, data[:4000])
    response = patch(alice_client, url, 3000, data[3000:8000])
    assert (response.status_code, response["Upload-Offset"]) == (409, "4000")
    assert ResumableUpload.objects.get().offset == 4000


def test_a_chunk_past_the_announced_length_is_refused(alice_client, cn_deployment):
    url = create(alice_client, cn_deployment, 10)["Location"]
    assert patch(alice_client, url, 0, b"\xff\xd8\xff" + b"x" * 20).status_code == 400
    assert ResumableUpload.objects.get().offset == 0


def test_a_chunk_must_say_it_is_one(alice_client, cn_deployment):
    url = create(alice_client, cn_deployment, 10)["Location"]
    headers = {**TUS, "Upload-Offset": "0"}
    response = alice_client.generic("PATCH", url, b"x" * 10, "text/plain", headers=headers)
    assert response.status_code == 415


@pytest.mark.parametrize("version", ["0.2.2", ""])
def test_another_protocol_version_is_refused(alice_client, cn_deployment, version):
    headers = {"Tus-Resumable": version, "Upload-Length": "10"}
    response = alice_client.generic(
        "POST", f"/deployments/{cn_deployment.pk}/uploads/", headers=headers
    )
    assert (response.status_code, response["Tus-Version"]) == (412, "1.0.0")
    assert not ResumableUpload.objects.exists()


def test_a_file_larger_than_any_accepted_is_refused_at_creation(
    alice_client, cn_deployment, settings
):
    settings.UPLOAD_MAX_FILE_BYTES, settings.ZIP_MAX_UNPACKED_BYTES = 1000, 5000
    assert create(alice_client, cn_deployment, 5001, "DCIM/big.JPG").status_code == 413
    assert not ResumableUpload.objects.exists()
    skipped = SkippedFile.objects.get()
    assert (skipped.name, skipped.reason) == ("DCIM/big.JPG", "too_large")


def test_an_image_over_the_image_limit_is_refused_at_its_first_bytes(
    alice_client, cn_deployment, settings, media_root
):
    # Up to the archive limit until its first bytes show it is an image, not a ZIP.
    settings.UPLOAD_MAX_FILE_BYTES, settings.ZIP_MAX_UNPACKED_BYTES = 1000, 5000
    data = IMAGE.read_bytes()[:3000]
    url = create(alice_client, cn_deployment, len(data), "big.JPG")["Location"]
    assert patch(alice_client, url, 0, data[:100]).status_code == 413
    assert not ResumableUpload.objects.exists()
    assert not list((media_root / "incoming/resumable").glob(url.split("/")[2].replace("-", "")))
    assert SkippedFile.objects.get().reason == "too_large"


@pytest.mark.parametrize("method", ["head", "patch", "delete"])
def test_only_the_owner_reaches_an_upload(
    client, alice, boris, cn_team, cn_deployment, django_user_model, method
):
    client.force_login(alice)
    url = create(client, cn_deployment, 10)["Location"]
    colleague = django_user_model.objects.create_user("chen", password="password")
    cn_team.memberships.create(user=colleague, role="uploader")
    for user in (colleague, boris):
        other = LoginClient()
        other.force_login(user)
        response = ask(other, method, url)
        assert response.status_code == 404
    assert ResumableUpload.objects.get().offset == 0


def test_an_owner_who_may_no_longer_upload_there_loses_the_upload(
    alice_client, alice, cn_deployment
):
    url = create(alice_client, cn_deployment, 10)["Location"]
    alice.memberships.all().delete()
    assert alice_client.head(url, headers=TUS).status_code == 404
    assert patch(alice_client, url, 0, b"\xff\xd8\xff" + b"x" * 7).status_code == 404


@pytest.mark.parametrize("user", ["boris", "charlie", "site_admin"])
def test_only_an_uploader_of_the_team_may_create(client, request, cn_deployment, user):
    client.force_login(request.getfixturevalue(user))
    assert create(client, cn_deployment, 10).status_code == 403
    assert client.post(f"/deployments/{cn_deployment.pk}/batches/").status_code == 403
    assert not ResumableUpload.objects.exists()
    assert not UploadBatch.objects.exists()


def test_another_teams_deployment_is_refused(alice_client, ru_deployment):
    assert create(alice_client, ru_deployment, 10).status_code == 403
    assert not ResumableUpload.objects.exists()


def test_it_requires_login(client, cn_deployment):
    response = create(client, cn_deployment, 10)
    assert response.status_code == 302
    assert response.url.startswith("/login/")


def test_chunks_need_the_csrf_token(alice, cn_deployment):
    client = LoginClient(enforce_csrf_checks=True)
    client.force_login(alice)
    assert create(client, cn_deployment, 10).status_code == 403
    client.get(f"/deployments/{cn_deployment.pk}/upload/")
    token = client.cookies["csrftoken"].value
    headers = {**TUS, "Upload-Length": "10", "X-CSRFToken": token}
    response = client.generic("POST", f"/deployments/{cn_deployment.pk}/uploads/", headers=headers)
    assert response.status_code == 201


def test_the_last_chunk_adds_the_file_to_its_batch_once(
    alice_client, cn_deployment, django_capture_on_commit_callbacks, media_root
):
    data = IMAGE.read_bytes()
    with django_capture_on_commit_callbacks() as callbacks:
        url = send(alice_client, cn_deployment, data, "StationA/PBE/" + IMAGE.name)
    media = Media.objects.get()
    upload = ResumableUpload.objects.get()
    assert media.sha256 == hashlib.sha256(data).hexdigest()
    assert default_storage.open(media.file.name).read() == data
    assert (media.folder, media.original_name, media.batch) == (
        "StationA/PBE",
        IMAGE.name,
        upload.batch,
    )
    assert len(callbacks) == 1  # its processing task
    assert not (media_root / "incoming/resumable" / upload.pk.hex).exists()
    # Kept complete, so a client that lost the last answer learns it is done.
    response = alice_client.head(url, headers=TUS)
    assert response["Upload-Offset"] == response["Upload-Length"] == str(len(data))
    # The last chunk sent again (its answer was lost) adds nothing.
    assert patch(alice_client, url, len(data) - 10, data[-10:]).status_code == 409
    assert Media.objects.count() == 1


def test_a_second_identical_file_is_a_duplicate_not_stored_twice(alice_client, cn_deployment):
    data = IMAGE.read_bytes()
    send(alice_client, cn_deployment, data, "a/" + IMAGE.name)
    send(alice_client, cn_deployment, data, "b/copy.JPG")
    original = Media.objects.get()
    skipped = SkippedFile.objects.get()
    assert (skipped.name, skipped.reason, skipped.duplicate_of) == (
        "b/copy.JPG",
        "duplicate",
        original,
    )
    sha256 = hashlib.sha256(data).hexdigest()
    assert len(list(Path(default_storage.path("originals")).rglob(sha256 + "*"))) == 1


def test_a_zip_of_a_card_is_unpacked(alice_client, cn_deployment):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("StationA/PBE/" + IMAGE.name, IMAGE.read_bytes())
        archive.writestr("StationA/VTA/" + OTHER_IMAGE.name, OTHER_IMAGE.read_bytes())
    send(alice_client, cn_deployment, buffer.getvalue(), "card.zip", chunk=50_000)
    media = Media.objects.order_by("folder")
    assert [(m.folder, m.original_name) for m in media] == [
        ("StationA/PBE", IMAGE.name), ("StationA/VTA", OTHER_IMAGE.name)
    ]  # fmt: skip
    assert media[0].sha256 == hashlib.sha256(IMAGE.read_bytes()).hexdigest()


def test_an_empty_file_is_reported_at_creation(alice_client, cn_deployment):
    response = create(alice_client, cn_deployment, 0, "DCIM/empty.JPG")
    assert response.status_code == 201
    assert (SkippedFile.objects.get().name, SkippedFile.objects.get().reason) == (
        "DCIM/empty.JPG", "not_an_image"
    )  # fmt: skip


def test_deleting_an_upload_removes_its_bytes(alice_client, cn_deployment, media_root):
    url = create(alice_client, cn_deployment, 100)["Location"]
    patch(alice_client, url, 0, b"\xff\xd8\xff" + b"x" * 47)
    name = ResumableUpload.objects.get().pk.hex
    assert alice_client.delete(url, headers=TUS).status_code == 204
    assert not ResumableUpload.objects.exists()
    assert not (media_root / "incoming/resumable" / name).exists()
    assert alice_client.head(url, headers=TUS).status_code == 404


def test_the_sweep_removes_uploads_left_for_days(alice_client, cn_deployment, media_root, settings):
    settings.RESUMABLE_UPLOAD_KEEP_DAYS = 7
    create(alice_client, cn_deployment, 100, "old.JPG")
    create(alice_client, cn_deployment, 100, "recent.JPG")
    old = ResumableUpload.objects.get(path="old.JPG")
    ResumableUpload.objects.filter(pk=old.pk).update(
        updated_at=timezone.now() - dt.timedelta(days=8)
    )
    out = io.StringIO()
    call_command("sweep", stdout=out)
    assert "stale resumable uploads removed: 1" in out.getvalue()
    assert list(ResumableUpload.objects.values_list("path", flat=True)) == ["recent.JPG"]
    assert not resumable.partial_path(old).exists()
