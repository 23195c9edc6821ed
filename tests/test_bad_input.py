"""No input makes a 500: every list, export and JSON endpoint answers a bad query string with
400 or an empty result. Random and malformed query strings, seeded so a failure repeats."""

from __future__ import annotations

import base64
import html
import random
from urllib.parse import quote

import pytest

from sightings.models import Individual, Sighting, Species

from .test_events import shoot, upload

PARAMETERS = [
    "q", "species", "country", "team", "location", "deployment", "date_from", "date_to",
    "time_from", "time_to", "individual", "review_status", "method", "independent",
    "has_images", "sort", "view", "after", "before", "page", "show", "batch", "min_delta",
    "compared_to", "x",
]  # fmt: skip
VALUES = [
    "", "abc", "-1", "0", "1", "2", "99999999999999999999999", "-99999999999999999999", "1e309",
    "nan", "\x00", "a\x00b", "2020-13-01", "2020-02-30", "9999-12-31", "0001-01-01", "25:61",
    "23:59", "' OR 1=1 --", "<script>alert(1)</script>", "тигр", "虎", "🐯", "x" * 5000,
    "[]", "{}", "true", "on", "null", "last", "independent", "-time", "species", "grid",
    base64.urlsafe_b64encode(b"[1, 2]").decode(), base64.urlsafe_b64encode(b'["x", "y"]').decode(),
    base64.urlsafe_b64encode(b'[true, "2020-01-01"]').decode(), "====", "%", "%zz",
    base64.urlsafe_b64encode(b'["2009-04-21T00:40:00+00:00", 1e100]').decode(),
]  # fmt: skip
RAW = ["%zz=1", "=x", "&&&", "q", "q=%E4%B8", "species=1&species=x", "a[b]=c", "%00=%00"]


def random_queries(seed: int, count: int) -> list[str]:
    chooser = random.Random(seed)
    queries = list(RAW)
    for _ in range(count):
        pairs = [
            (chooser.choice(PARAMETERS), chooser.choice(VALUES))
            for _ in range(chooser.randint(1, 4))
        ]
        queries.append("&".join(f"{quote(k)}={quote(v, safe='')}" for k, v in pairs))
    return queries


@pytest.fixture
def data(cn_deployment, alice, cn_team):
    images = shoot(cn_deployment, alice, "2009:04:21 00:40:00", "2009:04:21 03:00:00")
    Sighting.objects.update(species=Species.objects.get(name_en="Wild boar"))
    individual = Individual.objects.create(
        species=Species.objects.get(name_en="Wild boar"), code="SS-1", team=cn_team
    )
    return {"deployment": cn_deployment.pk, "batch": images[0].batch_id,
            "event": images[0].event_id, "individual": individual.pk}  # fmt: skip


ENDPOINTS = [
    "/", "/sightings/", "/sightings.csv", "/sightings/count/", "/map/", "/map.geojson",
    "/record-table/", "/individuals/", "/individuals/{individual}/", "/deployments/{deployment}/",
    "/batches/{batch}/", "/batches/{batch}/progress/", "/events/{event}/",
    "/deployments/{deployment}/annotate/", "/batches/{batch}/annotate/",
]  # fmt: skip


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_no_query_string_makes_a_server_error(client, alice, data, endpoint):
    client.raise_request_exception = False
    client.force_login(alice)
    url = endpoint.format(**data)
    for query in random_queries(seed=len(endpoint), count=60):
        response = client.get(f"{url}?{query}")
        if response.streaming:  # a streamed export fails while it is written, if at all
            b"".join(response.streaming_content)
        assert response.status_code < 500, f"{url}?{query}"


def test_a_cursor_this_code_did_not_make_is_a_bad_request(client, alice, data):
    client.force_login(alice)
    for cursor in ("WzEsIDJd", "bm90IGpzb24", "W10", "!!!"):
        response = client.get("/sightings/", {"after": cursor})
        assert response.status_code == 400
        assert "That page of results does not exist" in response.content.decode()


@pytest.mark.parametrize("url", ["/sightings.csv", "/map.geojson", "/sightings/count/"])
@pytest.mark.parametrize(
    "query", [{"species": "abc"}, {"date_from": "2020-13-01"}, {"q": "\x00"}, {"team": "-1"}]
)
def test_invalid_filters_are_a_bad_request_with_the_reason(client, alice, data, url, query):
    client.force_login(alice)
    response = client.get(url, query)
    assert response.status_code == 400
    assert set(response.json()["errors"]) == set(query)


def test_a_valid_filter_matching_nothing_is_an_empty_result(client, alice, data):
    client.force_login(alice)
    query = {"date_from": "2030-01-01"}
    assert client.get("/sightings/count/", query).json()["count"] == 0
    assert client.get("/map.geojson", query).json()["features"] == []
    lines = b"".join(client.get("/sightings.csv", query).streaming_content).splitlines()
    assert len(lines) == 1  # the header


def test_naming_a_batch_with_no_events_goes_back_to_the_batch(client, alice, cn_deployment):
    [image] = upload(cn_deployment, alice, "2009:04:21 00:40:00")  # queued, in no event
    client.force_login(alice)
    response = client.get(f"/batches/{image.batch_id}/annotate/", follow=True)
    assert response.redirect_chain[-1][0] == f"/batches/{image.batch_id}/"
    assert "No events yet" in response.content.decode()


def test_an_individual_seen_where_the_clock_zone_is_unknown(client, alice, cn_deployment, data):
    cn_deployment.time_zone = ""
    cn_deployment.save()
    Sighting.objects.update(individual=data["individual"])
    client.force_login(alice)
    response = client.get(f"/individuals/{data['individual']}/")
    assert response.status_code == 200
    assert "+0000" in response.content.decode()  # shown in UTC


@pytest.mark.parametrize(
    "url",
    ["/sightings/?species={huge}", "/sightings/count/?team={huge}", "/map.geojson?location={huge}",
     "/sightings.csv?species={huge}"],
)  # fmt: skip
def test_an_id_past_64_bits_is_a_bad_request_on_every_database(client, alice, url):
    # SQLite cannot even be asked about such a number (OverflowError): it is refused first.
    client.force_login(alice)
    response = client.get(url.format(huge=10**23))
    assert response.status_code == 400


def test_the_record_table_form_refuses_an_id_past_64_bits(client, alice):
    client.force_login(alice)
    response = client.get(f"/record-table/?min_delta=30&species={10**23}&location={10**23}")
    assert response.status_code == 400  # the form again, saying what is wrong
    said = html.unescape(response.content.decode())
    assert said.count(f"“{10**23}” is not a valid value.") == 2
