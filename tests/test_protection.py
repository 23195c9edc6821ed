"""The big cats' stations: other teams see them on a 0.1° grid, on every surface."""

from __future__ import annotations

import csv
import io

import exifread
import pytest
from django.core.files.storage import default_storage
from PIL import Image

from sightings import classification, protection, shareable
from sightings.models import Location, Sighting, Species

from .conftest import TESTDATA
from .test_events import shoot
from .test_processing import add, process

GPS_PHOTO = TESTDATA / "exif-samples/jpg/gps/DSCN0010.jpg"
# KP-12 is at 43.1017 N, 131.4852 E: the centre of its 0.1° cell is 43.15, 131.45.
EXACT = (43.1017, 131.4852)
CELL = (43.15, 131.45)


def name(sighting: Sighting, species: str, user) -> None:
    sighting = Sighting.objects.select_related("event__deployment", "species", "individual").get(
        pk=sighting.pk
    )
    naming = classification.Naming(Species.objects.get(name_en=species))
    classification.classify(sighting, sighting.version, naming, user)
    Sighting.objects.filter(pk=sighting.pk).update(review_status="approved")


@pytest.fixture
def tiger_station(ru_deployment, boris, ru_team):
    """KP-12, where a tiger and a deer were photographed; the deer's photo has GPS tags."""
    from sightings.models import Membership

    Membership.objects.create(user=boris, team=ru_team, role=Membership.Role.UPLOADER)
    [tiger_image] = shoot(ru_deployment, boris, "2021:04:11 20:43:09")
    deer_image = process(add(ru_deployment, boris, GPS_PHOTO))
    name(Sighting.objects.get(event=tiger_image.event_id), "Amur tiger", boris)
    name(Sighting.objects.get(event=deer_image.event_id), "Sika deer", boris)
    return {"tiger": tiger_image, "deer": deer_image}


def test_a_tigers_station_is_protected_as_a_whole(tiger_station, ru_deployment):
    assert Location.objects.get(pk=ru_deployment.location_id).has_sensitive_species


def test_the_grid_cell_centre():
    assert protection.generalised(*EXACT) == CELL
    assert protection.generalised(-0.01, None) == (-0.05, None)


def test_a_coarser_grid_is_a_setting(settings):
    settings.LOCATION_GRID_DEGREES = 1
    assert protection.generalised(*EXACT) == (43.5, 131.5)


def test_browser_table_shows_other_teams_the_grid(client, alice, boris, tiger_station):
    client.force_login(alice)
    text = client.get("/sightings/").content.decode()
    assert "≈ 43.15, 131.45" in text and "43.1017" not in text
    client.force_login(boris)
    assert "43.1017, 131.4852" in client.get("/sightings/").content.decode()


def test_sighting_page_shows_other_teams_the_grid(client, alice, boris, tiger_station):
    tiger = Sighting.objects.get(event=tiger_station["tiger"].event_id)
    client.force_login(alice)
    text = client.get(f"/sightings/{tiger.pk}/").content.decode()
    assert 'data-latitude="43.150000" data-longitude="131.450000"' in text
    assert "≈ 43.15, 131.45" in text and "43.1017" not in text
    client.force_login(boris)
    assert 'data-latitude="43.101700"' in client.get(f"/sightings/{tiger.pk}/").content.decode()


def test_geojson_gives_other_teams_the_grid(client, alice, boris, tiger_station):
    client.force_login(alice)
    [feature] = client.get("/map.geojson").json()["features"]
    assert (feature["geometry"]["coordinates"], feature["properties"]["generalised"]) == (
        [131.45, 43.15],
        True,
    )
    client.force_login(boris)
    [feature] = client.get("/map.geojson").json()["features"]
    assert feature["geometry"]["coordinates"] == [131.4852, 43.1017]


def test_csv_gives_other_teams_the_grid(client, alice, tiger_station):
    client.force_login(alice)
    response = client.get("/sightings.csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    # The deer too: its station is the tiger's.
    assert {
        (r["common_name"], r["latitude"], r["longitude"], r["coordinates_generalised"])
        for r in rows
    } == {
        ("Amur tiger", "43.15", "131.45", "yes"),
        ("Sika deer", "43.15", "131.45", "yes"),
    }


def test_image_pages_withhold_gps_from_other_teams(client, alice, boris, tiger_station):
    deer = tiger_station["deer"]
    client.force_login(alice)
    text = client.get(f"/media/{deer.pk}/").content.decode()
    assert "withheld: a sensitive species lives here" in text
    assert "GPS GPSLatitude" not in text and "43.46" not in text
    client.force_login(boris)
    assert "43.46" in client.get(f"/media/{deer.pk}/").content.decode()


def test_original_files_reach_other_teams_without_any_metadata(client, alice, boris, tiger_station):
    deer = tiger_station["deer"]
    client.force_login(alice)
    served = b"".join(client.get(f"/media/{deer.pk}/original/").streaming_content)
    # The copy made for other teams (shareable.py), kept and served as it is.
    name, content_type = shareable.copy_for_others(deer)
    with default_storage.open(name) as copy:
        assert (content_type, served) == ("image/jpeg", copy.read())
    assert exifread.process_file(io.BytesIO(served), details=False) == {}
    original = GPS_PHOTO.read_bytes()
    # Not re-encoded: the pixels are the same.
    assert Image.open(io.BytesIO(served)).tobytes() == Image.open(io.BytesIO(original)).tobytes()
    client.force_login(boris)
    assert b"".join(client.get(f"/media/{deer.pk}/original/").streaming_content) == original


def test_derivatives_carry_no_metadata_at_all(tiger_station):
    deer = tiger_station["deer"]
    for name in (deer.preview.name, deer.thumbnail.name):
        with Image.open(default_storage.open(name)) as image:
            assert dict(image.getexif()) == {}


def test_other_stations_keep_exact_coordinates(client, alice, tiger_station, cn_deployment, boris):
    client.force_login(boris)
    [feature] = [
        f
        for f in client.get("/map.geojson").json()["features"]
        if f["properties"]["name"] == "KP-12"
    ]
    assert feature["properties"]["generalised"] is False


def test_outsiders_without_a_team_see_the_grid_too(client, charlie, tiger_station):
    client.force_login(charlie)
    [feature] = client.get("/map.geojson").json()["features"]
    assert feature["geometry"]["coordinates"] == [131.45, 43.15]
