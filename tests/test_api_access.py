"""Who may see what through the API (sightings/access.py), cell by cell for the cast of
viewers, with the expectations of the pages (test_access.py); and no answer of the API tells
another team where a protected station is."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token

from sightings.models import Media

from .conftest import EVERYONE, OWN, SITE, TESTDATA

# (what, endpoint, the object in records, who sees it). Another team sees what was shared
# with it, as on the pages: the approved sighting, its image, its station and deployment.
# Deployments and stations differ from the deployment page (own team only, as it lists every
# image): their names are what the browser's filters offer for the shared sightings.
CELLS = [
    ("an approved sighting", "sightings", ("sightings", "tiger"), EVERYONE),
    ("a pending sighting", "sightings", ("sightings", "pending_tiger"), OWN + SITE),
    ("an approved image", "media", ("media", "tiger"), EVERYONE),
    ("a pending image", "media", ("media", "boar"), OWN + SITE),
    ("a station with shared sightings", "locations", ("station", "tiger"), EVERYONE),
    ("a station with none", "locations", ("station", "hidden_boar"), OWN + SITE),
    ("a deployment with shared sightings", "deployments", ("deployment", "tiger"), EVERYONE),
    ("a deployment with none", "deployments", ("deployment", "hidden_boar"), OWN + SITE),
    ("an individual", "individuals", ("individual", None), EVERYONE),
    ("a team", "teams", ("team", None), OWN + SITE),
]
# The exact places of the protected stations: HC-07 (Chinese) and KP-12 (Russian).
PROTECTED = {"cn": (b"43.0853", b"130.9564"), "ru": (b"43.1017", b"131.4852")}


def _pk(records: dict, kind: str, key: str | None) -> int:
    media = records["media"][key] if key else None
    return {
        "sightings": lambda: records["sightings"][key].pk,
        "media": lambda: media.pk,
        "station": lambda: media.deployment.location_id,
        "deployment": lambda: media.deployment_id,
        "individual": lambda: records["individual"].pk,
        "team": lambda: records["individual"].team_id,
    }[kind]()


def _listed(client, url: str) -> list[dict]:
    rows = []
    while url:
        page = client.get(url)
        assert page.status_code == 200, page.content
        rows += page.json()["results"]
        url = page.json()["next"]
    return rows


@pytest.mark.parametrize("who", EVERYONE)
@pytest.mark.parametrize(("what", "endpoint", "obj", "allowed"), CELLS, ids=[c[0] for c in CELLS])
def test_who_sees_what(client, records, who, what, endpoint, obj, allowed):
    client.force_login(records["users"][who])
    pk = _pk(records, *obj)
    detail = client.get(f"/api/v1/{endpoint}/{pk}/")
    listed = {row["id"] for row in _listed(client, f"/api/v1/{endpoint}/")}
    if who in allowed:
        assert (detail.status_code, detail.json()["id"], pk in listed) == (200, pk, True)
    else:
        # Not found, as if it did not exist.
        assert (detail.status_code, pk in listed) == (404, False)


@pytest.mark.parametrize("who", EVERYONE)
def test_only_the_cn_uploader_may_upload(client, records, who):
    deployment = records["media"]["tiger"].deployment_id
    token = Token.objects.create(user=records["users"][who])
    image = TESTDATA / "camera-trap/camtrapR/raw_images/StationA/IMG0001.JPG"
    with image.open("rb") as file:
        response = client.post(
            f"/api/v1/deployments/{deployment}/media/", {"file": file},
            HTTP_AUTHORIZATION=f"Token {token.key}",
        )  # fmt: skip
    assert response.status_code == (201 if who == "cn-uploader" else 403)


def _every_answer(client) -> bytes:
    """Every list of the schema, each page of it and each object listed, as JSON text."""
    paths = client.get("/api/v1/schema/?format=json").json()["paths"]
    answers = []
    for path, operations in paths.items():
        url = path if "get" in operations and "{id}" not in path else None
        while url:
            page = client.get(url)
            answers.append(page.content)
            for row in page.json()["results"]:
                detail = client.get(f"{path}{row['id']}/")
                assert detail.status_code == 200, (path, row["id"])
                answers.append(detail.content)
            url = page.json()["next"]
    return b"".join(answers)


@pytest.mark.parametrize("who", EVERYONE)
def test_no_answer_tells_another_team_where_a_protected_station_is(client, records, who):
    # As if the cameras wrote their station's position into the images, too.
    for team, key in (("cn", "tiger"), ("ru", "ru_tiger")):
        latitude, longitude = (float(degrees) for degrees in PROTECTED[team])
        Media.objects.filter(pk=records["media"][key].pk).update(
            gps_latitude=latitude, gps_longitude=longitude
        )
    client.force_login(records["users"][who])
    seen = _every_answer(client)
    for team, (latitude, longitude) in PROTECTED.items():
        own = who == "site-admin" or who.startswith(team)
        assert (latitude in seen, longitude in seen) == (own, own), team
    assert (b'"generalised":true' in seen) == (who != "site-admin")
