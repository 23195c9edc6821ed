"""Who may do what (sightings/access.py, README "Who may do what"): every cell of the table,
through the real views, for every role of the owning team, of another team, of no team, and
the site admin. A denied request changes nothing."""

from __future__ import annotations

import io

import pytest

from sightings import classification
from sightings.models import (
    Individual,
    Media,
    Sighting,
    SightingChange,
    Species,
    UploadBatch,
)

from .conftest import EVERYONE, OTHERS, OWN, SITE
from .test_events import camera_jpeg, shoot

NAMERS = ["cn-uploader", "cn-reviewer"]
REVIEWERS = ["cn-reviewer", "cn-admin"]

# (what, method, URL, data, who may). The URLs name the Chinese team's data: an approved
# sighting of a tiger (its station is therefore protected) and a pending one of a boar.
CELLS = [
    ("see the deployment", "get", "/deployments/{deployment}/", {}, OWN + SITE),
    ("see the batch", "get", "/batches/{batch}/", {}, OWN + SITE),
    ("see the batch's progress", "get", "/batches/{batch}/progress/", {}, OWN + SITE),
    ("see an event", "get", "/events/{approved_event}/", {}, OWN + SITE),
    ("start naming", "get", "/deployments/{deployment}/annotate/", {}, OWN + SITE),
    ("see an approved sighting", "get", "/sightings/{approved}/", {}, EVERYONE),
    ("see a pending sighting", "get", "/sightings/{pending}/", {}, OWN + SITE),
    ("see an approved image", "get", "/media/{approved_image}/", {}, EVERYONE),
    ("see its preview", "get", "/media/{approved_image}/preview/", {}, EVERYONE),
    ("see its thumbnail", "get", "/media/{approved_image}/thumbnail/", {}, EVERYONE),
    ("open its original", "get", "/media/{approved_image}/original/", {}, EVERYONE),
    ("see a pending image", "get", "/media/{pending_image}/", {}, OWN + SITE),
    ("see its preview", "get", "/media/{pending_image}/preview/", {}, OWN + SITE),
    ("see its thumbnail", "get", "/media/{pending_image}/thumbnail/", {}, OWN + SITE),
    ("open its original", "get", "/media/{pending_image}/original/", {}, OWN + SITE),
    ("see an individual", "get", "/individuals/{individual}/", {}, EVERYONE),
    ("open the upload page", "get", "/deployments/{deployment}/upload/", {}, ["cn-uploader"]),
    ("upload", "post", "/deployments/{deployment}/upload/", "image", ["cn-uploader"]),
    ("retry a batch", "post", "/batches/{batch}/retry/", {}, ["cn-uploader"]),
    ("retry an image", "post", "/media/{pending_image}/retry/", {}, ["cn-uploader"]),
    ("answer folder names", "post", "/batches/{batch}/folders/", {}, ["cn-uploader"]),
    ("name a sighting", "post", "/sightings/{pending}/name/", "naming", NAMERS),
    ("add a sighting", "post", "/events/{pending_event}/sightings/", "naming", NAMERS),
    ("name many", "post", "/deployments/{deployment}/annotate/many/", "many", NAMERS),
    ("edit the team's individual", "get", "/individuals/{individual}/edit/", {}, NAMERS),
    ("add a reference image", "post", "/media/{approved_image}/reference/", "code", NAMERS),
    ("review", "post", "/sightings/{pending}/review/", "review", REVIEWERS),
    # Each reviewer's queue holds their own teams' sightings (test_review_queue.py).
    ("see a review queue", "get", "/review/", {}, [*REVIEWERS, "ru-reviewer", "ru-admin"]),
    ("decide from the queue", "post", "/review/decide/", "decide", REVIEWERS),
]


@pytest.fixture
def world(viewers, cn_team, ru_team, cn_deployment, alice, site_admin) -> dict:
    users = dict(viewers)
    approved_image, pending_image = shoot(
        cn_deployment, alice, "2009:04:21 00:40:00", "2009:05:01 10:00:00"
    )
    approved = _named(approved_image, "Amur tiger", alice)
    classification.review(approved, "approved", users["cn-reviewer"], approved.version)
    pending = _named(pending_image, "Wild boar", alice)
    individual = Individual.objects.create(
        species=Species.objects.get(name_en="Amur tiger"), code="PT-CN-001", team=cn_team
    )
    return {
        "users": users,
        "deployment": cn_deployment.pk,
        "batch": approved_image.batch_id,
        "approved": approved.pk,
        "approved_event": approved.event_id,
        "approved_image": approved_image.pk,
        "pending": pending.pk,
        "pending_event": pending.event_id,
        "pending_image": pending_image.pk,
        "pending_version": pending.version,
        "individual": individual.pk,
    }


def _named(image: Media, species: str, user) -> Sighting:
    sighting = Sighting.objects.select_related("event__deployment").get(event=image.event_id)
    naming = classification.Naming(Species.objects.get(name_en=species))
    return classification.classify(sighting, sighting.version, naming, user)


def _data(kind, world: dict) -> dict:
    if not isinstance(kind, str):
        return kind
    if kind == "image":
        file = io.BytesIO(camera_jpeg("2009:05:02 10:00:00"))
        file.name = "new.jpg"
        return {"files": file}
    return {
        "naming": {"species": "Amur leopard", "version": world["pending_version"]},
        "many": {"species": "Blank", "sighting": f"{world['pending']}:{world['pending_version']}"},
        "review": {"status": "approved", "version": world["pending_version"]},
        "decide": {
            "status": "approved",
            "sighting": world["pending"],
            f"version-{world['pending']}": world["pending_version"],
        },
        "code": {"code": "PT-CN-001"},
    }[kind]


def _state() -> tuple:
    """What any of the actions would change."""
    return (
        list(Sighting.objects.order_by("pk").values_list("pk", "species", "review_status")),
        list(Media.objects.order_by("pk").values_list("pk", "state")),
        UploadBatch.objects.count(),
        SightingChange.objects.count(),
        list(Individual.objects.values_list("pk", "reference_media")),
    )


@pytest.mark.parametrize("who", EVERYONE)
@pytest.mark.parametrize(
    ("what", "method", "url", "data", "allowed"), CELLS, ids=[cell[0] for cell in CELLS]
)
def test_who_may_do_what(client, world, who, what, method, url, data, allowed):
    client.force_login(world["users"][who])
    before = _state()
    response = getattr(client, method)(url.format(**world), _data(data, world))
    if who in allowed:
        assert response.status_code in (200, 302), (who, what)
    else:
        assert response.status_code == 403, (who, what)
        assert _state() == before


@pytest.mark.parametrize("who", EVERYONE)
def test_only_the_owning_team_sees_a_protected_stations_place(client, world, who):
    # HC-07 is at 43.0853 N, 130.9564 E; the centre of its 0.1° cell is 43.05, 130.95.
    client.force_login(world["users"][who])
    page = client.get(f"/sightings/{world['approved']}/").content.decode()
    if who in OWN + SITE:
        assert "43.0853, 130.9564" in page
    else:
        assert "≈ 43.05, 130.95" in page and "43.0853" not in page


@pytest.mark.parametrize("who", OTHERS)
def test_other_teams_find_only_what_was_approved(client, world, who):
    client.force_login(world["users"][who])
    browse = client.get("/sightings/").content.decode()
    assert f'href="/sightings/{world["approved"]}/"' in browse
    assert f'href="/sightings/{world["pending"]}/"' not in browse
    assert client.get("/sightings/count/").json()["count"] == 1
    assert client.get("/individuals/").status_code == 200
