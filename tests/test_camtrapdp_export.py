"""Camtrap DP export (sightings/camtrapdp_export.py): packages of realistic data validate
with frictionless and the official profile, follow the access layer (protected stations on
the grid, other teams' unapproved records absent), and come from the browser, the command
and a real worker."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from sightings import (
    access,
    camtrapdp_export,
    camtrapdp_import,
    camtrapdp_validation,
    classification,
)
from sightings.models import (
    Event,
    ExportJob,
    Individual,
    Location,
    Media,
    Sighting,
    Species,
    Team,
)

from .conftest import TESTDATA, wait_until
from .test_events import shoot

# HC-07, the Chinese station of the fixtures, and its cell on the 0.1 degree grid.
EXACT = ("43.0853", "130.9564")
GRID = (43.05, 130.95)


def species(name: str) -> Species:
    return Species.objects.get(name_en=name)


def name(image: Media, what: str, user, status: str = "approved", **fields) -> Sighting:
    sighting = Sighting.objects.select_related("event__deployment").get(event=image.event_id)
    sighting = classification.classify(
        sighting, sighting.version, classification.Naming(species(what), **fields), user
    )
    Sighting.objects.filter(pk=sighting.pk).update(review_status=status)
    return sighting


def moment(deployment, when: dt.datetime, what: str, status: str = "approved") -> Sighting:
    """A sighting of an event with no images (entered by hand, or its images deleted)."""
    event = Event.objects.create(deployment=deployment, start_at=when, end_at=when)
    return Sighting.objects.create(
        event=event, species=species(what), review_status=status, count=2,
        classification_method="human", **event.placement(),
    )  # fmt: skip


@pytest.fixture
def world(cn_deployment, ru_deployment, alice, boris, cn_team) -> dict:
    """A Chinese card named in every way a card is, and a Russian sighting."""
    cn_deployment.location.habitat = "Oak forest by the ranger hut"
    cn_deployment.location.save()
    images = shoot(
        cn_deployment, alice, "2009:04:21 00:40:00", "2009:04:22 10:00:00",
        "2009:04:23 10:00:00", "2009:04:24 10:00:00", "2009:04:25 10:00:00",
    )  # fmt: skip
    tiger = Individual.objects.create(species=species("Amur tiger"), code="PT-CN-001", team=cn_team)
    found = {
        "tiger": name(images[0], "Amur tiger", alice, individual=tiger, count=1, sex="male"),
        "blank": name(images[1], "Blank", alice),
        "unknown": name(images[2], "Unknown", alice),
        "draft": Sighting.objects.get(event=images[3].event_id),  # not named yet
        "pending": name(images[4], "Wild boar", alice, status="pending"),
        "no_media": moment(cn_deployment, dt.datetime(2009, 4, 26, 3, tzinfo=dt.UTC), "Sika deer"),
        "ru": moment(ru_deployment, dt.datetime(2021, 4, 11, 12, tzinfo=dt.UTC), "Sika deer"),
    }
    # The card's Station/Amur tiger/ folder named the first image.
    Media.objects.filter(pk=images[0].pk).update(folder_species=species("Amur tiger"))
    return {"images": images, **found}


def export(user_or_viewer, tmp_path, query: str = "") -> dict[str, bytes]:
    viewer = (
        user_or_viewer
        if isinstance(user_or_viewer, access.Viewer)
        else access.Viewer.of(user_or_viewer)
    )
    out = tmp_path / "package.zip"
    camtrapdp_export.build(viewer, camtrapdp_export.filtered(viewer, query), out)
    with zipfile.ZipFile(out) as package:
        return {member: package.read(member) for member in package.namelist()}


def rows(files: dict[str, bytes], table: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(files[f"{table}.csv"].decode())))


def test_a_teams_own_export_validates_with_every_edge_case(world, alice, tmp_path):
    files = export(alice, tmp_path)
    assert set(files) == {"datapackage.json", "deployments.csv", "media.csv", "observations.csv"}
    observations = {row["observationID"]: row for row in rows(files, "observations")}
    events = {pk: row for pk, row in observations.items() if row["observationLevel"] == "event"}
    # Its own team's sightings at every status, and the other team's approved one.
    expected = {"tiger", "blank", "unknown", "draft", "pending", "no_media", "ru"}
    assert set(events) == {str(world[key].pk) for key in expected}
    tiger = events[str(world["tiger"].pk)]
    assert (tiger["observationType"], tiger["scientificName"]) == (
        "animal", "Panthera tigris altaica",
    )  # fmt: skip
    assert (tiger["individualID"], tiger["count"], tiger["sex"]) == ("PT-CN-001", "1", "male")
    assert (tiger["classificationMethod"], tiger["classifiedBy"]) == ("human", "alice")
    blank = events[str(world["blank"].pk)]
    assert (blank["observationType"], blank["scientificName"], blank["count"]) == ("blank", "", "")
    assert events[str(world["unknown"].pk)]["observationType"] == "unknown"
    assert events[str(world["draft"].pk)]["observationType"] == "unclassified"
    # The five images of the card; the event with no images is an observation alone.
    assert len(rows(files, "media")) == 5
    assert events[str(world["no_media"].pk)]["eventID"] == str(world["no_media"].event_id)
    # The image its folder named: a media-based observation.
    image = world["images"][0]
    media_based = observations[f"media-{image.pk}"]
    assert (media_based["mediaID"], media_based["eventID"]) == (str(image.pk), str(image.event_id))
    assert media_based["scientificName"] == "Panthera tigris altaica"
    package = json.loads(files["datapackage.json"])
    assert package["project"]["observationLevel"] == ["event", "media"]
    assert package["project"]["individualAnimals"] is True
    tiger_taxon = next(
        t for t in package["taxonomic"] if t["scientificName"] == "Panthera tigris altaica"
    )
    assert tiger_taxon["vernacularNames"] == {
        "eng": "Amur tiger", "zho": "东北虎", "rus": "Амурский тигр",
    }  # fmt: skip
    assert {c["title"] for c in package["contributors"]} >= {"Hunchun", "Land of the Leopard"}
    assert package["profile"].endswith("/1.0.2/camtrap-dp-profile.json")
    # Its own station, exactly.
    station = next(r for r in rows(files, "deployments") if r["locationName"] == "HC-07")
    assert (station["latitude"], station["longitude"], station["coordinateUncertainty"]) == (
        *EXACT, "",
    )  # fmt: skip


def test_timestamps_carry_the_deployments_offset_and_whole_seconds(world, alice, tmp_path):
    files = export(alice, tmp_path)
    image = world["images"][0]
    media = next(row for row in rows(files, "media") if row["mediaID"] == str(image.pk))
    # The camera read 00:40:00 in Asia/Shanghai (UTC+8).
    assert media["timestamp"] == "2009-04-21T00:40:00+08:00"
    russian = next(
        row for row in rows(files, "observations") if row["observationID"] == str(world["ru"].pk)
    )
    assert russian["eventStart"] == "2021-04-11T22:00:00+10:00"  # Asia/Vladivostok
    stamp = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d")
    for table, columns in [
        ("media", ["timestamp"]),
        ("observations", ["eventStart", "eventEnd"]),
        ("deployments", ["deploymentStart", "deploymentEnd"]),
    ]:
        for row in rows(files, table):
            assert all(stamp.fullmatch(row[column]) for column in columns), row


def test_another_team_gets_a_protected_station_on_the_grid_only(world, boris, tmp_path):
    assert Location.objects.get(pk=world["tiger"].location_id).has_sensitive_species
    files = export(boris, tmp_path)
    for member, content in files.items():
        for exact in EXACT:
            assert exact.encode() not in content, member
    assert b"ranger hut" not in b"".join(files.values())
    station = next(r for r in rows(files, "deployments") if r["locationName"] == "HC-07")
    assert (float(station["latitude"]), float(station["longitude"])) == GRID
    assert int(station["coordinateUncertainty"]) == 7872  # centre to corner of a 0.1° cell
    package = json.loads(files["datapackage.json"])
    assert package["coordinatePrecision"] == 0.1
    # The zip's own bytes, as downloaded, and the protected image's link.
    raw = (tmp_path / "package.zip").read_bytes()
    assert not any(exact.encode() in raw for exact in EXACT)
    image = world["images"][0]
    media = next(row for row in rows(files, "media") if row["mediaID"] == str(image.pk))
    assert media["filePath"] == f"http://127.0.0.1:8000/media/{image.pk}/original/"
    assert image.file.name not in b"".join(files.values()).decode()


def test_another_teams_unapproved_records_are_absent(world, boris, tmp_path):
    files = export(boris, tmp_path)
    events = {row["observationID"] for row in rows(files, "observations")}
    approved = {"tiger", "blank", "unknown", "no_media", "ru"}
    assert events - {e for e in events if e.startswith("media-")} == {
        str(world[key].pk) for key in approved
    }
    media = {row["mediaID"] for row in rows(files, "media")}
    hidden = {world["images"][3].pk, world["images"][4].pk}  # draft and pending events
    assert not media & {str(pk) for pk in hidden}


@pytest.mark.parametrize("rule", ["embargo", "unshared station", "other teams chosen"])
def test_the_sharing_rules_hold_back_what_they_hold_back(world, boris, cn_team, tmp_path, rule):
    if rule == "embargo":  # the Chinese records are from 2009: within 600 months
        cn_team.embargo_months = 600
        cn_team.save()
    elif rule == "unshared station":
        Location.objects.filter(team=cn_team).update(is_shared=False)
    else:
        cn_team.shares_with.add(Team.objects.create(name="Snow leopard trust", country="MN"))
    files = export(boris, tmp_path)
    assert [row["observationID"] for row in rows(files, "observations")] == [str(world["ru"].pk)]
    assert rows(files, "media") == []
    assert {row["locationName"] for row in rows(files, "deployments")} == {"KP-12"}


def test_browser_filters_narrow_the_export(world, boris, tmp_path):
    files = export(boris, tmp_path, f"species={species('Sika deer').pk}&country=RU")
    assert [row["observationID"] for row in rows(files, "observations")] == [str(world["ru"].pk)]
    with pytest.raises(camtrapdp_export.BadFilters):
        export(boris, tmp_path, "date_from=yesterday")
    with pytest.raises(camtrapdp_export.NothingToExport):
        export(boris, tmp_path, "review_status=pending&country=CN")


def test_stations_without_coordinates_are_left_out_and_said_so(world, alice, tmp_path):
    location = world["ru"].location
    location.latitude = location.longitude = None
    location.save()
    files = export(alice, tmp_path)
    assert str(world["ru"].pk) not in {row["observationID"] for row in rows(files, "observations")}
    package = json.loads(files["datapackage.json"])
    assert "1 sightings at stations without coordinates are left out" in package["description"]


def test_an_invalid_package_is_refused(world, alice, tmp_path):
    export(alice, tmp_path)
    folder = tmp_path / "broken"
    with zipfile.ZipFile(tmp_path / "package.zip") as package:
        package.extractall(folder)
    text = (folder / "observations.csv").read_text()
    (folder / "observations.csv").write_text(text.replace(",animal,", ",tiger,", 1))
    with pytest.raises(camtrapdp_validation.InvalidPackage, match="observationType|constraint"):
        camtrapdp_validation.validate(folder)


def test_the_official_example_validates():
    camtrapdp_validation.validate(TESTDATA / "camera-trap" / "camtrap-dp-example")


def test_the_command_exports_as_a_user_or_as_the_site(world, tmp_path):
    out = tmp_path / "tigers.zip"
    call_command("export_camtrapdp", str(out), "--user", "boris", "--species", "Amur tiger",
                 stdout=io.StringIO())  # fmt: skip
    with zipfile.ZipFile(out) as package:
        observations = package.read("observations.csv").decode()
        deployments = package.read("deployments.csv").decode()
    assert f"\n{world['tiger'].pk}," in observations
    assert EXACT[0] not in deployments
    # Without --user: the installation's own view, exact coordinates and all.
    call_command("export_camtrapdp", str(out), "--review-status", "pending", stdout=io.StringIO())
    with zipfile.ZipFile(out) as package:
        assert EXACT[0] in package.read("deployments.csv").decode()
        assert f"\n{world['pending'].pk}," in package.read("observations.csv").decode()
    with pytest.raises(CommandError, match="Not in the catalogue"):
        call_command("export_camtrapdp", str(out), "--species", "dragon")


def test_the_browser_downloads_a_small_set_directly(client, world, boris):
    client.force_login(boris)
    response = client.get("/sightings/camtrap-dp/", {"country": "RU"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    package = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert package.read("observations.csv").decode().count("\n") == 2
    assert client.get("/sightings/camtrap-dp/", {"date_from": "never"}).status_code == 400
    nothing = client.get("/sightings/camtrap-dp/", {"review_status": "rejected"})
    assert nothing.status_code == 302 and nothing.url.startswith("/sightings/?")
    browse = client.get("/sightings/", {"country": "RU"}).content.decode()
    assert 'href="/sightings/camtrap-dp/?country=RU"' in browse


def test_an_export_that_does_not_validate_is_never_downloaded(client, world, boris, caplog):
    # A kind Camtrap DP does not know, written past the model's choices: the package breaks.
    Species.objects.filter(name_en="Sika deer").update(kind="cryptid")
    client.force_login(boris)
    response = client.get("/sightings/camtrap-dp/", {"country": "RU"})
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    assert "The export failed" in response.content.decode()
    assert "observationType" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_a_worker_builds_a_large_set_and_only_its_owner_downloads_it(
    client, catalogue, world, alice, boris, settings, celery_worker
):
    settings.CAMTRAP_DP_DIRECT_LIMIT = 1
    client.force_login(boris)
    response = client.get("/sightings/camtrap-dp/")
    job = ExportJob.objects.get()
    assert response.url == f"/exports/{job.pk}/"
    assert (job.owner, job.total) == (boris, 5)
    wait_until(
        lambda: ExportJob.objects.get().state in ("ready", "failed"), 120, celery_worker.text
    )
    job.refresh_from_db()
    assert (job.state, job.done, job.file.name) == ("ready", 5, f"exports/{job.pk}.zip")
    page = client.get(f"/exports/{job.pk}/").content.decode()
    assert f'href="/exports/{job.pk}/download/"' in page
    assert client.get(f"/exports/{job.pk}/progress/").json()["finished"] is True
    download = client.get(f"/exports/{job.pk}/download/")
    package = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    assert EXACT[0] not in package.read("deployments.csv").decode()
    # Anyone else is answered as if it did not exist.
    client.force_login(alice)
    for url in ("", "progress/", "download/"):
        assert client.get(f"/exports/{job.pk}/{url}").status_code == 404


# Imported data, exported again: as its package said it.

EXAMPLE = TESTDATA / "camera-trap" / "camtrap-dp-example"
PACKAGE = "7cca70f5-ef8c-4f86-85fb-8f070937d7ab/"


@pytest.fixture
def imported(ru_team, boris) -> None:
    """The official example, imported by the Russian team and approved."""
    camtrapdp_import.import_package(EXAMPLE, ru_team, boris)
    Sighting.objects.update(review_status="approved")


def test_an_imported_sighting_says_who_classified_it_and_how(imported, site_admin, tmp_path):
    files = export(site_admin, tmp_path)
    mallard = Sighting.objects.get(source_id=PACKAGE + "705e6036")
    row = next(r for r in rows(files, "observations") if r["observationID"] == str(mallard.pk))
    assert (row["classificationMethod"], row["classifiedBy"]) == ("human", "Danny Van der beeck")
    assert row["classificationTimestamp"] == "2020-07-09T11:39:52+02:00"  # Etc/GMT-2


def test_every_observation_of_an_imported_image_is_exported(imported, site_admin, tmp_path):
    files = export(site_admin, tmp_path)
    image = Media.objects.get(source_id=PACKAGE + "a33837bf")
    own = [r for r in rows(files, "observations") if r["mediaID"] == str(image.pk)]
    assert [(r["observationID"], r["count"], r["lifeStage"]) for r in own] == [
        (f"media-{image.pk}", "1", "adult"), (f"media-{image.pk}-2", "9", "juvenile"),
    ]  # fmt: skip
    media_based = [r for r in rows(files, "observations") if r["observationLevel"] == "media"]
    # All 513 but those of the ten files still waiting to be processed (no time yet) and of
    # three images whose events have media-based observations only (no sighting).
    assert len(media_based) == 513 - 10 - 3


def test_an_image_known_by_its_url_links_it_but_never_at_a_protected_station(
    imported, site_admin, alice, tmp_path
):
    image = Media.objects.select_related("deployment").get(source_id=PACKAGE + "07840dcc")
    files = export(site_admin, tmp_path)
    row = next(r for r in rows(files, "media") if r["mediaID"] == str(image.pk))
    assert row["filePath"] == image.source_url
    assert row["filePath"].startswith("https://multimedia.agouti.eu/assets/07840dcc")
    # Its station protected, another team gets the station's records but none of its images.
    station = image.deployment.location_id
    Location.objects.filter(pk=station).update(has_sensitive_species=True)
    files = export(alice, tmp_path)
    held_back = {
        str(pk)
        for pk in Media.objects.filter(deployment__location=station).values_list("pk", flat=True)
    }  # noqa: E501
    assert not {r["mediaID"] for r in rows(files, "media")} & held_back
    assert not {r["mediaID"] for r in rows(files, "observations")} & held_back
    assert any(r["deploymentID"] == str(image.deployment_id) for r in rows(files, "observations"))
    assert all(r["filePath"].startswith("https://") for r in rows(files, "media"))
