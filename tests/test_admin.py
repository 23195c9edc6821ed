from __future__ import annotations

import pytest

from sightings.models import Media

MODELS = [
    "team",
    "membership",
    "species",
    "location",
    "deployment",
    "uploadbatch",
    "media",
    "skippedfile",
]


@pytest.fixture
def failed_media(cn_deployment, alice) -> Media:
    batch = cn_deployment.batches.create(uploaded_by=alice)
    return Media.objects.create(
        batch=batch, deployment=cn_deployment, sha256="b" * 64, file="x.jpg", file_size=1,
        original_name="x.jpg", state="failed", failure_reason="Not an image.", attempt_count=1,
    )  # fmt: skip


@pytest.mark.parametrize("model", MODELS)
def test_every_model_has_a_searchable_changelist(client, site_admin, failed_media, model):
    client.force_login(site_admin)
    assert client.get(f"/admin/sightings/{model}/").status_code == 200
    assert client.get(f"/admin/sightings/{model}/?q=x").status_code == 200


def test_the_media_page_shows_a_file(client, site_admin, failed_media):
    client.force_login(site_admin)
    response = client.get(f"/admin/sightings/media/{failed_media.pk}/change/")
    assert response.status_code == 200
    assert b"x.jpg" in response.content


def test_the_retry_action_queues_failed_media_again(
    client, site_admin, failed_media, django_capture_on_commit_callbacks
):
    client.force_login(site_admin)
    with django_capture_on_commit_callbacks() as callbacks:
        client.post(
            "/admin/sightings/media/",
            {"action": "retry_processing", "_selected_action": [failed_media.pk]},
        )
    failed_media.refresh_from_db()
    assert (failed_media.state, failed_media.failure_reason, failed_media.attempt_count) == (
        "queued",
        "",
        0,
    )
    assert len(callbacks) == 1


def test_team_members_are_not_let_into_the_admin(client, alice):
    client.force_login(alice)
    assert client.get("/admin/sightings/media/").status_code == 302
