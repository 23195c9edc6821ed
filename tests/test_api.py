from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.authtoken.models import Token

from sightings.models import Event, Media, Sighting, Species, UploadBatch

UTC = dt.UTC
ENDPOINTS = ["species", "locations", "deployments", "sightings", "media"]


def sight(deployment, when: dt.datetime, name: str = "Wild boar", status="approved") -> Sighting:
    """A sighting of an event of one moment at the deployment."""
    event = Event.objects.create(deployment=deployment, start_at=when, end_at=when)
    return Sighting.objects.create(
        event=event, species=Species.objects.get(name_en=name), review_status=status,
        **event.placement(),
    )  # fmt: skip


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


@pytest.fixture
def pooled(cn_deployment, ru_deployment):
    day = dt.datetime(2009, 4, 21, 12, tzinfo=UTC)
    later = dt.datetime(2021, 4, 11, 12, tzinfo=UTC)
    return {
        "cn_approved": sight(cn_deployment, day),
        "cn_pending": sight(cn_deployment, day + dt.timedelta(days=1), status="pending"),
        "ru_approved": sight(ru_deployment, later, "Sika deer"),
        "ru_pending": sight(ru_deployment, later + dt.timedelta(days=1), status="pending"),
    }


@pytest.mark.parametrize(
    "user,seen",
    [
        ("alice", {"cn_approved", "cn_pending", "ru_approved"}),
        ("boris", {"cn_approved", "ru_approved", "ru_pending"}),
        ("charlie", {"cn_approved", "ru_approved"}),
    ],
)
def test_each_team_sees_its_own_sightings_and_only_others_approved(
    client, request, pooled, user, seen
):
    client.force_login(request.getfixturevalue(user))
    response = client.get("/api/v1/sightings/")
    assert ids(response) == {pooled[name].pk for name in seen}


def test_another_teams_pending_sighting_is_not_found(client, boris, pooled):
    client.force_login(boris)
    assert client.get(f"/api/v1/sightings/{pooled['cn_pending'].pk}/").status_code == 404
    assert client.get(f"/api/v1/sightings/{pooled['cn_approved'].pk}/").status_code == 200


def test_a_protected_stations_coordinates_never_reach_another_team(
    client, alice, boris, cn_deployment
):
    location = cn_deployment.location
    location.has_sensitive_species = True
    location.save()
    tiger = sight(cn_deployment, dt.datetime(2009, 4, 21, 3, tzinfo=UTC), "Amur tiger")
    batch = UploadBatch.objects.create(deployment=cn_deployment, uploaded_by=alice)
    Media.objects.create(
        batch=batch, deployment=cn_deployment, event=tiger.event, sha256="a" * 64,
        file="tiger.jpg", original_name="tiger.jpg", file_size=1, state="processed",
        gps_latitude=43.0853, gps_longitude=130.9564,
    )  # fmt: skip
    client.force_login(boris)
    answers = [client.get(f"/api/v1/{name}/") for name in ENDPOINTS] + [
        client.get(f"/api/v1/locations/{location.pk}/"),
        client.get(f"/api/v1/sightings/{tiger.pk}/"),
    ]
    assert [answer.status_code for answer in answers] == [200] * 7
    seen = b"".join(answer.content for answer in answers)
    assert tiger.pk in ids(answers[3]) and b'"generalised":true' in seen
    assert b"43.0853" not in seen and b"130.9564" not in seen


def test_the_own_team_sees_its_protected_station_exactly(client, alice, cn_deployment):
    location = cn_deployment.location
    location.has_sensitive_species = True
    location.save()
    client.force_login(alice)
    place = client.get(f"/api/v1/locations/{location.pk}/").json()["place"]
    assert place == {"latitude": 43.0853, "longitude": 130.9564, "generalised": False}


def test_the_browsers_filters_narrow_sightings(client, alice, pooled):
    client.force_login(alice)
    deer = Species.objects.get(name_en="Sika deer").pk
    assert ids(client.get(f"/api/v1/sightings/?species={deer}")) == {pooled["ru_approved"].pk}
    response = client.get("/api/v1/sightings/?review_status=pending&date_from=2009-04-22")
    assert ids(response) == {pooled["cn_pending"].pk}


def test_a_bad_filter_is_answered_400(client, alice, pooled):
    client.force_login(alice)
    response = client.get("/api/v1/sightings/?date_from=yesterday")
    assert response.status_code == 400
    assert "date_from" in response.json()


def test_pages_follow_one_another_by_cursor(client, alice, pooled):
    client.force_login(alice)
    seen, url = [], "/api/v1/sightings/?page_size=1"
    while url:
        page = client.get(url).json()
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    expected = ["cn_approved", "cn_pending", "ru_approved"]
    assert seen == [pooled[name].pk for name in expected]


@pytest.mark.parametrize("name", ENDPOINTS)
def test_without_credentials_nothing_is_answered(client, pooled, name):
    response = client.get(f"/api/v1/{name}/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_a_token_signs_a_script_in(client, boris, pooled):
    token = Token.objects.create(user=boris)
    response = client.get("/api/v1/sightings/", HTTP_AUTHORIZATION=f"Token {token.key}")
    expected = {pooled[name].pk for name in ("cn_approved", "ru_approved", "ru_pending")}
    assert ids(response) == expected


def test_a_wrong_token_is_refused(client, pooled):
    response = client.get("/api/v1/sightings/", HTTP_AUTHORIZATION="Token " + "0" * 40)
    assert response.status_code == 401


def test_a_user_makes_replaces_and_revokes_their_token(client, boris):
    client.force_login(boris)
    assert b"You have no token." in client.get("/account/tokens/").content
    client.post("/account/tokens/", {"action": "make"})
    first = Token.objects.get(user=boris).key
    assert first.encode() in client.get("/account/tokens/").content
    client.post("/account/tokens/", {"action": "make"})
    assert Token.objects.get(user=boris).key != first
    client.post("/account/tokens/", {"action": "revoke"})
    assert not Token.objects.filter(user=boris).exists()


def test_the_token_page_needs_a_login(client):
    response = client.get("/account/tokens/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
