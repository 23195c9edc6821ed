from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest
from django.core.cache import cache
from rest_framework.authtoken.models import Token

from sightings.models import Event, Individual, Media, Sighting, Species, UploadBatch

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


# Throttling: each token has its own count.


@pytest.fixture
def three_a_minute(settings):
    rates = {"DEFAULT_THROTTLE_RATES": {"user": "3/minute"}}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, **rates}
    cache.clear()  # the counts live in the default cache
    yield
    cache.clear()


def test_a_token_past_its_rate_is_told_when_to_come_back(client, alice, boris, three_a_minute):
    mine, theirs = (f"Token {Token.objects.create(user=user).key}" for user in (alice, boris))
    answers = [client.get("/api/v1/species/", HTTP_AUTHORIZATION=mine) for _ in range(4)]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert 0 < int(answers[3]["Retry-After"]) <= 60
    # Another user's token has a count of its own.
    assert client.get("/api/v1/species/", HTTP_AUTHORIZATION=theirs).status_code == 200


# Teams, individuals and the filters of the other lists.


def test_a_member_sees_their_own_team_only(client, alice, ru_team):
    client.force_login(alice)
    teams = client.get("/api/v1/teams/").json()["results"]
    assert teams == [{"id": alice.memberships.get().team_id, "name": "Hunchun", "country": "CN"}]
    assert client.get(f"/api/v1/teams/{ru_team.pk}/").status_code == 404


def test_a_site_admin_sees_every_team_and_filters_them_by_country(client, site_admin, cn_team,
                                                                  ru_team):  # fmt: skip
    client.force_login(site_admin)
    assert ids(client.get("/api/v1/teams/")) == {cn_team.pk, ru_team.pk}
    assert ids(client.get("/api/v1/teams/?country=RU")) == {ru_team.pk}


def test_an_individuals_count_is_of_the_sightings_the_viewer_sees(client, boris, cn_deployment):
    tiger = Species.objects.get(name_en="Amur tiger")
    individual = Individual.objects.create(
        species=tiger, code="PT-CN-001", team=cn_deployment.location.team
    )
    day = dt.datetime(2009, 4, 21, 12, tzinfo=UTC)
    for status in ("approved", "pending"):
        Sighting.objects.filter(pk=sight(cn_deployment, day, "Amur tiger", status).pk).update(
            individual=individual
        )
    client.force_login(boris)
    answer = client.get(f"/api/v1/individuals/{individual.pk}/").json()
    assert (answer["code"], answer["team"], answer["sighting_count"]) == (
        "PT-CN-001", cn_deployment.location.team_id, 1
    )  # fmt: skip
    page = client.get("/individuals/").content.decode()
    assert '<td class="number">1</td>' in page  # the page counts the same way


def test_individuals_are_found_by_code_name_species_and_team(client, alice, cn_team, ru_team):
    tiger, leopard = (Species.objects.get(name_en=n) for n in ("Amur tiger", "Amur leopard"))
    cn = Individual.objects.create(species=tiger, code="PT-CN-001", name="Wang", team=cn_team)
    ru = Individual.objects.create(species=leopard, code="PP-RU-7", team=ru_team)
    client.force_login(alice)
    assert ids(client.get("/api/v1/individuals/")) == {cn.pk, ru.pk}
    assert ids(client.get("/api/v1/individuals/?q=wang")) == {cn.pk}
    assert ids(client.get(f"/api/v1/individuals/?species={leopard.pk}")) == {ru.pk}
    assert ids(client.get(f"/api/v1/individuals/?team={ru_team.pk}")) == {ru.pk}


def test_the_tiger_is_found_by_its_scientific_name(client, alice):
    client.force_login(alice)
    response = client.get("/api/v1/species/?scientific_name=panthera tigris altaica")
    assert [row["name_en"] for row in response.json()["results"]] == ["Amur tiger"]


def test_stations_and_deployments_are_filtered_by_team_and_country(client, alice, pooled):
    client.force_login(alice)
    cn, ru = pooled["cn_approved"], pooled["ru_approved"]
    assert ids(client.get("/api/v1/locations/?country=RU")) == {ru.location_id}
    assert ids(client.get(f"/api/v1/locations/?team={cn.location.team_id}")) == {cn.location_id}
    assert ids(client.get("/api/v1/deployments/?country=CN")) == {cn.event.deployment_id}
    response = client.get(f"/api/v1/deployments/?location={ru.location_id}")
    assert ids(response) == {ru.event.deployment_id}


def test_images_are_filtered_by_the_species_the_viewer_may_see(client, alice, boris, pooled):
    batch = UploadBatch.objects.create(deployment=pooled["cn_approved"].event.deployment,
                                       uploaded_by=alice)  # fmt: skip
    image = Media.objects.create(
        batch=batch, deployment=batch.deployment, event=pooled["cn_approved"].event,
        sha256="b" * 64, file="x.jpg", original_name="x.jpg", file_size=1, state="processed",
    )  # fmt: skip
    # A pending sighting of a leopard on the same event: only the team knows of it.
    leopard = Species.objects.get(name_en="Amur leopard")
    Sighting.objects.create(event=image.event, species=leopard, review_status="pending",
                            **image.event.placement())  # fmt: skip
    boar = pooled["cn_approved"].species_id
    for user, found in ((alice, {image.pk}), (boris, set())):
        client.force_login(user)
        assert ids(client.get(f"/api/v1/media/?species={leopard.pk}")) == found
        assert ids(client.get(f"/api/v1/media/?species={boar}")) == {image.pk}


def test_an_id_past_64_bits_is_not_found(client, alice):
    client.force_login(alice)
    assert client.get(f"/api/v1/sightings/{10**20}/").status_code == 404


def test_the_token_page_links_to_the_documentation(client, boris):
    client.force_login(boris)
    assert b'href="/api/v1/docs/"' in client.get("/account/tokens/").content


def test_the_counts_are_shared_when_the_cache_is_a_redis(client, alice, settings):
    """With CACHE_URL (settings.py) the counts live in Redis, where every gunicorn process
    and machine reads the same one; another connection, here another process, sees it."""
    broker = settings.CELERY_BROKER_URL  # the tests' Redis: a server, or the local one's socket
    location = broker.replace("redis+socket://", "unix://")
    location = location.rsplit("/", 1)[0] + "/15" if location.startswith("redis://") else location
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": location}
    }
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"user": "3/minute"}
    }  # fmt: skip
    cache.clear()
    try:
        token = f"Token {Token.objects.create(user=alice).key}"
        for _ in range(2):
            assert client.get("/api/v1/species/", HTTP_AUTHORIZATION=token).status_code == 200
        count = subprocess.run(
            [sys.executable, "-c", READ_COUNT, location, str(alice.pk)],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        assert count == "2"
    finally:
        cache.clear()


# In another process: the length of the user's throttle history, as DRF's
# SimpleRateThrottle keeps it (a list of request times under throttle_user_<id>).
READ_COUNT = """
import sys
from django.conf import settings
settings.configure(CACHES={"default": {
    "BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": sys.argv[1]}})
from django.core.cache import cache
print(len(cache.get(f"throttle_user_{sys.argv[2]}") or []))
"""
