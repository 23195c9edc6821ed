"""The Camtrap DP round trip (issue 14): what the exchange exports, imported into an emptied
database and exported again, gives the same tables but for the ids README.md ("Camtrap DP
export and import") says change; and importing the same package twice creates nothing twice.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import zipfile

import pytest
from django.core.files import File

from sightings import access, camtrapdp_export, camtrapdp_import, classification, ingest, tasks
from sightings.models import (
    Country,
    Deployment,
    Event,
    Individual,
    Location,
    Media,
    MediaObservation,
    PendingGrouping,
    PendingIndependence,
    Sighting,
    Species,
    UploadBatch,
)

from .conftest import CAMTRAPR

CARDS = CAMTRAPR / "sample_images_species_dir"


def card(deployment: Deployment, user, folder: str) -> list[Media]:
    """A card of real camera-trap images, processed and grouped as a worker does it."""
    batch = deployment.batches.create(uploaded_by=user)
    images = []
    for path in sorted((CARDS / folder).iterdir()):
        data = path.read_bytes()
        media = ingest.add_file(
            batch, File(io.BytesIO(data), name=path.name), name=path.name, folder=folder,
            sha256=hashlib.sha256(data).hexdigest(),
        )  # fmt: skip
        tasks.process_media.apply(args=(media.pk,))
        images.append(media)
    tasks.group_new_media.apply(args=(deployment.pk,))
    return [Media.objects.get(pk=image.pk) for image in images]


def name(image: Media, what: str, user, status: str = "approved", **fields) -> Sighting:
    sighting = Sighting.objects.select_related("event__deployment").get(event=image.event_id)
    species = Species.objects.get(name_en=what)
    naming = classification.Naming(species, **fields)
    sighting = classification.classify(sighting, sighting.version, naming, user)
    Sighting.objects.filter(pk=sighting.pk).update(review_status=status)
    return sighting


def deployment(team, station: str, zone: str, **fields) -> Deployment:
    location = Location.objects.create(
        team=team, name=station, latitude=43.1 + len(station) / 100, longitude=131.2,
        country=team.country, habitat=f"Mixed forest near {station}",
    )  # fmt: skip
    return Deployment.objects.create(
        location=location, start_at=dt.datetime(2009, 4, 1, tzinfo=dt.UTC), time_zone=zone,
        **fields,
    )  # fmt: skip


@pytest.fixture
def exchange(cn_team, ru_team, alice, boris) -> None:
    """Two teams' cards named in every way a card is: a tiger known by its stripes at a
    station that is protected from then on, a blank, an unknown animal, a draft, a sighting
    waiting for review, an image its folder named, a clock set wrong, an open deployment,
    and a sighting entered with no image."""
    hunchun = deployment(
        cn_team, "HC-07", "Asia/Shanghai", end_at=dt.datetime(2009, 6, 1, tzinfo=dt.UTC),
        camera_make="Reconyx", camera_model="HC500", camera_serial="H500-07",
    )  # fmt: skip
    images = card(hunchun, alice, "StationA/PBE")
    tiger = Individual.objects.create(
        code="PT-CN-001", species=Species.objects.get(name_en="Amur tiger"), team=cn_team
    )
    name(images[0], "Amur tiger", alice, individual=tiger, count=1, sex="male")
    Media.objects.filter(pk=images[0].pk).update(folder_species=tiger.species)
    name(images[1], "Blank", alice)
    name(images[2], "Unknown", alice, comment="Too dark to tell")
    name(images[3], "Wild boar", alice, count=3, life_stage="adult", behaviour="rooting")
    name(images[5], "Sika deer", alice, status="pending")  # images[4]: a draft
    skewed = deployment(cn_team, "HC-09", "Asia/Shanghai", clock_correction_seconds=-120)
    for image in card(skewed, alice, "StationA/VTA"):
        name(image, "Siberian roe deer", alice, count=2)
    kedrovaya = deployment(ru_team, "KP-12", "Asia/Vladivostok", camera_model="HF2X")
    leopard, boar = card(kedrovaya, boris, "StationB/MNE")[:2]
    name(leopard, "Amur leopard", boris, count=1, sex="female", life_stage="adult")
    name(boar, "Wild boar", boris, count=5)
    by_hand = Event.objects.create(
        deployment=kedrovaya, start_at=dt.datetime(2009, 5, 20, 3, tzinfo=dt.UTC),
        end_at=dt.datetime(2009, 5, 20, 3, 1, tzinfo=dt.UTC),
    )  # fmt: skip
    Sighting.objects.create(
        event=by_hand, species=Species.objects.get(name_en="Sika deer"), count=2,
        classification_method="human", review_status="approved", **by_hand.placement(),
    )  # fmt: skip


def export(user, out) -> dict[str, list[dict]]:
    viewer = access.Viewer.of(user)
    camtrapdp_export.build(viewer, camtrapdp_export.filtered(viewer, ""), out)
    with zipfile.ZipFile(out) as package:
        return {
            table: list(csv.DictReader(io.StringIO(package.read(f"{table}.csv").decode())))
            for table in camtrapdp_export.TABLES
        }


def empty_the_database() -> None:
    """Every row of data gone; the species catalogue, teams and people stay. (Sighting
    history is append-only and refers to no row: it stays, as it would.)"""
    Sighting.objects.all().delete()
    Media.objects.all().delete()  # and their observations
    Individual.objects.all().delete()
    UploadBatch.objects.all().delete()
    Event.objects.all().delete()
    PendingGrouping.objects.all().delete()
    PendingIndependence.objects.all().delete()
    Deployment.objects.all().delete()
    Location.objects.all().delete()


def without_ids(package: dict[str, list[dict]]) -> dict[str, list[tuple]]:
    """The tables with every id README.md says changes replaced by what it stands for: a
    deployment by its station and start, an image by its deployment, time and file name, an
    event by its deployment and period; a sighting's observationID by nothing, an image's
    media-<media id>[-n] by its image and n. Rows sorted: ids decided their order."""
    deployments = {r["deploymentID"]: (r["locationName"], r["deploymentStart"])
                   for r in package["deployments"]}  # fmt: skip
    media = {r["mediaID"]: (deployments[r["deploymentID"]], r["timestamp"], r["fileName"])
             for r in package["media"]}  # fmt: skip
    events = {r["eventID"]: (deployments[r["deploymentID"]], r["eventStart"], r["eventEnd"])
              for r in package["observations"] if r["observationLevel"] == "event"}  # fmt: skip
    keys = {
        "deploymentID": deployments,
        "mediaID": media,
        "eventID": events,
        "locationID": {r["locationID"]: r["locationName"] for r in package["deployments"]},
    }
    tables = {}
    for table, rows in package.items():
        rows = [{column: keys[column].get(value, value) if column in keys else value
                 for column, value in row.items()} for row in rows]  # fmt: skip
        for row in rows:
            if "observationID" in row:
                row["observationID"] = _observation(row["observationID"], media)
        tables[table] = sorted(tuple(row.items()) for row in rows)
    return tables


def _observation(observation_id: str, media: dict) -> tuple:
    if not observation_id.startswith("media-"):
        return ("sighting",)
    image, _, number = observation_id.removeprefix("media-").partition("-")
    return ("media", media[image], number)


def test_export_import_export_gives_the_same_tables(exchange, cn_team, site_admin, tmp_path):
    first = export(site_admin, tmp_path / "first.zip")
    # Three deployments; 18 images in 13 events and one event entered by hand: 14 sightings,
    # and the image its folder named.
    assert [len(first[t]) for t in camtrapdp_export.TABLES] == [3, 18, 15]
    empty_the_database()
    result = camtrapdp_import.import_package(tmp_path / "first.zip", cn_team, site_admin)
    assert result.created == {
        "locations": 3, "deployments": 3, "events": 14, "media": 18, "sightings": 14,
        "media observations": 1, "individuals": 1,
    }  # fmt: skip
    again = export(site_admin, tmp_path / "again.zip")
    assert without_ids(again) == without_ids(first)
    # The ids said to change did change; the images' addresses did not.
    for table, column in [("deployments", "deploymentID"), ("media", "mediaID"),
                          ("observations", "observationID")]:  # fmt: skip
        assert not {r[column] for r in first[table]} & {r[column] for r in again[table]}
    assert [r["filePath"] for r in first["media"]] == [r["filePath"] for r in again["media"]]


def test_what_survives_the_trip_as_the_exchange_holds_it(exchange, cn_team, site_admin, tmp_path):
    export(site_admin, tmp_path / "first.zip")
    empty_the_database()
    camtrapdp_import.import_package(tmp_path / "first.zip", cn_team, site_admin)
    tiger = Sighting.objects.get(species__name_en="Amur tiger")
    assert (tiger.individual.code, tiger.individual.team) == ("PT-CN-001", cn_team)
    assert (tiger.classified_by_name, tiger.source_classification_method) == ("alice", "human")
    assert tiger.location.has_sensitive_species  # protected again
    assert Location.objects.get(name="KP-12").has_sensitive_species  # the leopard's
    # Summer time in Vladivostok in 2009 (+11:00), its names given this year: one zone
    # writes both offsets again. China keeps one offset: that fixed offset is its zone.
    zones = dict(Deployment.objects.values_list("location__name", "time_zone"))
    assert zones == {"KP-12": "Asia/Vladivostok", "HC-07": "Etc/GMT-8", "HC-09": "Etc/GMT-8"}
    assert Sighting.objects.filter(species=None).count() == 4  # the drafts
    folder_named = MediaObservation.objects.get()
    assert folder_named.species == tiger.species and folder_named.media.event == tiger.event
    assert Media.objects.filter(source_url="").count() == 0  # every image by its address
    assert set(Location.objects.values_list("country", flat=True)) == {Country.CN}


def test_importing_the_same_package_twice_creates_nothing_twice(
    exchange, cn_team, site_admin, tmp_path
):
    export(site_admin, tmp_path / "first.zip")
    empty_the_database()
    models = (Location, Deployment, Event, Media, MediaObservation, Sighting, Individual)
    camtrapdp_import.import_package(tmp_path / "first.zip", cn_team, site_admin)
    once = {model: model.objects.count() for model in models}
    again = camtrapdp_import.import_package(tmp_path / "first.zip", cn_team, site_admin)
    assert again.created == {}
    assert {model: model.objects.count() for model in models} == once
