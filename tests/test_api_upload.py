"""Sending a card's images from a script: POST /api/v1/deployments/{id}/media/, the upload
page's own code (ingest.receive) behind a token."""

from __future__ import annotations

import io

import pytest
from rest_framework.authtoken.models import Token

from sightings.models import Media, SkippedFile, UploadBatch

from .conftest import STATION_A, TESTDATA, wait_until

IMAGES = [STATION_A / "PBE/StationA__2009-04-21__00-40-00(1).JPG",
          STATION_A / "VTA/StationA__2009-04-10__05-07-00(1).JPG"]  # fmt: skip
# A real camera file cut inside its EXIF header: stored as a JPEG, and fails to be read.
CUT = TESTDATA / "camera-trap/speciesnet/test_data/african_elephants_truncated_file.jpg"
NOT_READABLE = "The file is not an image that can be read."
DUPLICATE = "The same file was uploaded before, so it is not stored again."
ONLY_IMAGES = "The file is not an image: only JPEG, PNG, TIFF, HEIF and WebP images are imported."


def named(data: bytes, name: str) -> io.BytesIO:
    file = io.BytesIO(data)
    file.name = name
    return file


def send(client, user, deployment_id: int, files: list, **data):
    token, _ = Token.objects.get_or_create(user=user)
    return client.post(
        f"/api/v1/deployments/{deployment_id}/media/", {"file": files, **data},
        HTTP_AUTHORIZATION=f"Token {token.key}",
    )  # fmt: skip


def state(client, user, media_id: int) -> dict:
    token = Token.objects.get(user=user)
    response = client.get(f"/api/v1/media/{media_id}/", HTTP_AUTHORIZATION=f"Token {token}")
    return response.json()


@pytest.mark.django_db(transaction=True)
def test_a_card_sent_by_a_script_is_processed_by_a_worker(
    client, catalogue, alice, cn_deployment, celery_worker
):
    files = [named(path.read_bytes(), path.name) for path in IMAGES]
    files += [named(CUT.read_bytes()[:3000], "cut.JPG"), named(b"battery 87%", "log.txt")]
    response = send(client, alice, cn_deployment.pk, files)
    assert response.status_code == 201, response.content
    answer = response.json()
    batch = UploadBatch.objects.get()
    stored = list(batch.media.order_by("pk").values_list("pk", flat=True))
    assert (answer["batch"], answer["accepted"]) == (batch.pk, stored)
    assert answer["skipped"] == [{"name": "log.txt", "reason": "not_an_image",
                                  "message": ONLY_IMAGES}]  # fmt: skip
    wait_until(lambda: batch.progress()["done"], 120, celery_worker.text())
    seen = {media_id: state(client, alice, media_id) for media_id in stored}
    assert [(s["state"], s["failure_reason"]) for s in seen.values()] == [
        ("processed", ""), ("processed", ""), ("failed", NOT_READABLE)
    ]  # fmt: skip
    # 2009-04-21 00:40 on a camera set to Asia/Shanghai (UTC+8).
    assert seen[stored[0]]["captured_at"] == "2009-04-20T16:40:00Z"


def test_a_file_the_exchange_has_is_skipped_as_a_duplicate(client, alice, cn_deployment):
    image = IMAGES[0].read_bytes()
    first = send(client, alice, cn_deployment.pk, [named(image, "a.JPG"), named(image, "b.JPG")])
    again = send(client, alice, cn_deployment.pk, [named(image, "c.JPG")])
    duplicate = {"reason": "duplicate", "message": DUPLICATE}
    assert len(first.json()["accepted"]) == 1
    assert first.json()["skipped"] == [{"name": "b.JPG", **duplicate}]
    assert (again.status_code, again.json()["accepted"]) == (201, [])
    assert again.json()["skipped"] == [{"name": "c.JPG", **duplicate}]
    assert Media.objects.count() == 1


def test_files_join_an_earlier_batch_of_the_uploaders_in_their_folders(
    client, alice, cn_deployment
):
    first = send(client, alice, cn_deployment.pk, [named(IMAGES[0].read_bytes(), "1.JPG")])
    batch = first.json()["batch"]
    second = send(
        client, alice, cn_deployment.pk, [named(IMAGES[1].read_bytes(), "2.JPG")],
        batch=batch, path="StationA/VTA/2.JPG",
    )  # fmt: skip
    media = Media.objects.get(pk=second.json()["accepted"][0])
    assert (second.json()["batch"], media.batch_id, media.folder) == (batch, batch, "StationA/VTA")
    assert media.original_name == "2.JPG"


@pytest.mark.parametrize(
    "user,deployment",
    [("boris", "cn_deployment"), ("charlie", "cn_deployment"), ("alice", "ru_deployment"),
     ("site_admin", "cn_deployment")],
)  # fmt: skip
def test_only_the_teams_uploaders_may_send(client, request, user, deployment):
    target = request.getfixturevalue(deployment)
    response = send(client, request.getfixturevalue(user), target.pk, [named(b"x", "x.JPG")])
    assert response.status_code == 403
    assert (UploadBatch.objects.count(), SkippedFile.objects.count()) == (0, 0)


def test_another_uploaders_batch_is_not_found(client, alice, viewers, cn_deployment):
    theirs = UploadBatch.objects.create(deployment=cn_deployment, uploaded_by=viewers["cn-admin"])
    response = send(client, alice, cn_deployment.pk, [named(b"x", "x.JPG")], batch=theirs.pk)
    assert response.status_code == 404
    assert not theirs.skipped_files.exists()


def test_a_deployment_that_does_not_exist_is_not_found(client, alice, cn_deployment):
    response = send(client, alice, cn_deployment.pk + 1000, [named(b"x", "x.JPG")])
    assert response.status_code == 404


def test_a_request_without_files_is_answered_400(client, alice, cn_deployment):
    response = send(client, alice, cn_deployment.pk, [])
    assert response.status_code == 400
    assert list(response.json()) == ["file"]
    assert not UploadBatch.objects.exists()


def test_each_file_needs_one_path(client, alice, cn_deployment):
    files = [named(IMAGES[0].read_bytes(), "1.JPG"), named(IMAGES[1].read_bytes(), "2.JPG")]
    response = send(client, alice, cn_deployment.pk, files, path="StationA/1.JPG")
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Each file needs exactly one path."]}


def test_without_a_token_nothing_is_stored(client, cn_deployment):
    response = client.post(f"/api/v1/deployments/{cn_deployment.pk}/media/",
                           {"file": named(IMAGES[0].read_bytes(), "1.JPG")})  # fmt: skip
    assert response.status_code == 401
    assert not Media.objects.exists()


def test_files_are_sent_by_post_only(client, alice, cn_deployment):
    token = Token.objects.create(user=alice)
    response = client.put(
        f"/api/v1/deployments/{cn_deployment.pk}/media/", HTTP_AUTHORIZATION=f"Token {token}"
    )
    assert response.status_code == 405
