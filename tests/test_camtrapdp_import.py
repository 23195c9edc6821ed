"""Camtrap DP import (sightings/camtrapdp_import.py, and the upload page in
camtrapdp_views.py): the official example imports completely, from the command and from the
browser through a real worker; a package that does not validate, or that unpacks past the
card limits, is refused with nothing written; importing the same package twice creates
nothing twice."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
import zipfile

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from sightings import ingest
from sightings.models import (
    Deployment,
    Event,
    ImportJob,
    Individual,
    Location,
    Media,
    MediaObservation,
    Sighting,
    SightingChange,
    Species,
)

from .conftest import TESTDATA, wait_until, wait_until_quiet

EXAMPLE = TESTDATA / "camera-trap" / "camtrap-dp-example"
PACKAGE = "7cca70f5-ef8c-4f86-85fb-8f070937d7ab/"


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Location, Deployment, Event, Media, Sighting, SightingChange,
                      MediaObservation, Individual, Species)
    }  # fmt: skip


def run(path, team, user) -> str:
    out = io.StringIO()
    call_command("import_camtrapdp", str(path), "--team", team.name, "--user", user.username,
                 stdout=out)  # fmt: skip
    return out.getvalue()


def zipped(folder, path, inside: str = ""):
    """The folder's files in a zip at path, under the folder inside if given."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        for file in folder.rglob("*"):
            if file.is_file():
                package.write(file, inside + file.relative_to(folder).as_posix())
    return path


@pytest.fixture
def example_zip(tmp_path):
    return zipped(EXAMPLE, tmp_path / "example.zip")


def edit(folder, observation: str, **cells) -> None:
    """Set cells of one row of the package's observations.csv."""
    path = folder / "observations.csv"
    with open(path, newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    for row in rows:
        if row["observationID"] == observation:
            row.update(cells)
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_the_official_example_imports_completely(catalogue, ru_team, boris, example_zip):
    run(example_zip, ru_team, boris)
    assert Deployment.objects.filter(location__team=ru_team).count() == 4
    assert Media.objects.count() == 423
    # 36 event-based observations are sightings; the 513 media-based ones name their images.
    assert Sighting.objects.count() == 36
    assert Media.objects.exclude(folder_species=None).count() > 300

    deployment = Deployment.objects.get(source_id=PACKAGE + "00a2c20d")
    assert deployment.location.name == "B_HS_val 2_processiepark"
    assert (deployment.location.latitude, deployment.location.longitude) == (51.496, 4.774)
    assert deployment.time_zone == "Etc/GMT-2"  # +02:00
    assert deployment.start_at == dt.datetime(2020, 5, 30, 2, 57, 37, tzinfo=dt.UTC)
    assert deployment.camera_model == "HF2X" and deployment.camera_make == "Reconyx"

    mallard = Sighting.objects.get(source_id=PACKAGE + "705e6036")
    assert mallard.species.scientific_name == "Anas platyrhynchos"
    assert (mallard.count, mallard.life_stage, mallard.sex) == (1, "adult", "female")
    assert mallard.behaviour == "foraging"
    assert mallard.classification_method == Sighting.Method.IMPORTED
    assert mallard.observed_at == dt.datetime(2020, 5, 30, 2, 57, 37, tzinfo=dt.UTC)
    assert mallard.location == deployment.location
    assert mallard.changes.get().method == Sighting.Method.IMPORTED

    referenced = Media.objects.get(source_id=PACKAGE + "07840dcc")
    assert referenced.source_url.startswith("https://multimedia.agouti.eu/assets/07840dcc")
    assert referenced.event == mallard.event and not referenced.file
    assert referenced.folder_species == mallard.species
    # The ten files inside the package went through the upload pipeline.
    stored = Media.objects.exclude(sha256=None)
    assert stored.count() == 10
    assert all(item.file and item.event_id for item in stored)
    assert set(stored.values_list("original_name", flat=True)) >= {"20210531082538-RCNX0031.JPG"}


def test_importing_twice_creates_nothing_twice(catalogue, ru_team, boris, example_zip):
    run(example_zip, ru_team, boris)
    before = counts()
    assert "nothing new" in run(example_zip, ru_team, boris)
    assert counts() == before
    # The unzipped folder is the same package.
    run(EXAMPLE, ru_team, boris)
    assert counts() == before


def test_a_package_that_does_not_validate_is_refused_whole(catalogue, ru_team, boris, tmp_path):
    folder = tmp_path / "broken"
    shutil.copytree(EXAMPLE, folder)
    text = (folder / "observations.csv").read_text()
    (folder / "observations.csv").write_text(text.replace(",animal,", ",tiger,", 1))
    before = counts()
    with pytest.raises(CommandError, match="does not validate.*\n.*observationType|constraint"):
        run(folder, ru_team, boris)
    assert counts() == before


@pytest.mark.django_db(transaction=True)
def test_a_worker_processes_the_packages_files_in_their_imported_events(
    catalogue, ru_team, boris, example_zip, celery_worker
):
    from .conftest import wait_until

    run(example_zip, ru_team, boris)
    stored = Media.objects.exclude(sha256=None)
    wait_until(lambda: not stored.exclude(state="processed").exists(), 120, celery_worker.text)
    before = counts()
    first = stored.order_by("captured_at").first()
    assert first.captured_at == dt.datetime(2021, 4, 11, 19, 43, 9, tzinfo=dt.UTC)  # +01:00
    events = set(stored.values_list("event__source_id", flat=True))
    assert len(events) == 1 and events.pop().startswith(PACKAGE)
    # Grouping made no events or drafts of its own beside the imported ones.
    assert Event.objects.exclude(source_id__startswith=PACKAGE).count() == 0
    assert counts() == before


def test_an_image_imported_by_url_alone_is_not_found_rather_than_an_error(
    client, catalogue, ru_team, boris, example_zip
):
    run(example_zip, ru_team, boris)
    referenced = Media.objects.get(source_id=PACKAGE + "07840dcc")
    client.force_login(boris)
    for kind in ("original", "preview", "thumbnail"):
        url = reverse("sightings:media_file", args=[referenced.pk, kind])
        assert client.get(url).status_code == 404


def test_every_media_based_observation_of_an_image_imports_once(
    catalogue, ru_team, boris, example_zip
):
    run(example_zip, ru_team, boris)
    assert MediaObservation.objects.count() == 513
    # One image, two rows: the mother and her nine young.
    image = Media.objects.get(source_id=PACKAGE + "a33837bf")
    rows = [
        (o.species.scientific_name, o.count, o.life_stage, o.sex, o.classified_by_name)
        for o in image.observations.all()
    ]
    assert rows == [
        ("Anas platyrhynchos", 1, "adult", "female", "Peter Desmet"),
        ("Anas platyrhynchos", 9, "juvenile", "", "Peter Desmet"),
    ]
    assert image.folder_species.scientific_name == "Anas platyrhynchos"
    run(example_zip, ru_team, boris)
    assert MediaObservation.objects.count() == 513


def test_who_classified_and_how_are_kept_as_the_package_says(
    catalogue, ru_team, boris, example_zip
):
    run(example_zip, ru_team, boris)
    mallard = Sighting.objects.get(source_id=PACKAGE + "705e6036")
    assert (mallard.classified_by, mallard.classified_by_name) == (None, "Danny Van der beeck")
    assert mallard.source_classification_method == "human"
    assert mallard.classified_at == dt.datetime(2020, 7, 9, 9, 39, 52, tzinfo=dt.UTC)
    assert "classifiedBy" not in mallard.comment


def test_individuals_are_found_by_code_or_created_for_the_team(
    catalogue, ru_team, cn_team, boris, tmp_path
):
    tiger = Individual.objects.create(
        code="PT-CN-001", species=Species.objects.get(name_en="Amur tiger"), team=cn_team
    )
    folder = tmp_path / "package"
    shutil.copytree(EXAMPLE, folder)
    edit(folder, "705e6036", individualID="DUCK-7")  # the mallard, by event ...
    edit(folder, "a33837bf_1", individualID="DUCK-7")  # ... and in an image
    edit(folder, "a4c90844_1", individualID="PT-CN-001")  # a mallard with a tiger's code
    run(folder, ru_team, boris)
    duck = Individual.objects.get(code="DUCK-7")
    assert (duck.species.scientific_name, duck.team) == ("Anas platyrhynchos", ru_team)
    assert Sighting.objects.get(source_id=PACKAGE + "705e6036").individual == duck
    assert MediaObservation.objects.get(source_id=PACKAGE + "a33837bf_1").individual == duck
    mistaken = MediaObservation.objects.get(source_id=PACKAGE + "a4c90844_1")
    assert mistaken.individual is None and mistaken.comment == "individualID: PT-CN-001"
    assert tiger.sightings.count() == 0
    before = counts()
    run(folder, ru_team, boris)
    assert counts() == before


def test_a_known_individual_is_linked_across_teams(catalogue, ru_team, cn_team, boris, tmp_path):
    mallard = Species.objects.create(
        scientific_name="Anas platyrhynchos", name_en="Mallard", name_zh="绿头鸭", name_ru="Кряква"
    )
    known = Individual.objects.create(code="DUCK-7", species=mallard, team=cn_team)
    folder = tmp_path / "package"
    shutil.copytree(EXAMPLE, folder)
    edit(folder, "705e6036", individualID="DUCK-7")
    run(folder, ru_team, boris)
    assert Sighting.objects.get(source_id=PACKAGE + "705e6036").individual == known
    assert Individual.objects.count() == 1


def test_a_zipped_folder_imports_and_a_zip_without_a_descriptor_is_refused(
    catalogue, ru_team, boris, tmp_path
):
    run(zipped(EXAMPLE, tmp_path / "folder.zip", inside="camtrap-dp-example/"), ru_team, boris)
    assert Deployment.objects.count() == 4
    before = counts()
    empty = tmp_path / "tables"
    shutil.copytree(EXAMPLE, empty, ignore=shutil.ignore_patterns("datapackage.json"))
    with pytest.raises(CommandError, match="no datapackage.json"):
        run(zipped(empty, tmp_path / "tables.zip"), ru_team, boris)
    assert counts() == before


@pytest.mark.parametrize(
    ("limit", "value", "message"),
    [("ZIP_MAX_RATIO", 1, ingest.UNPACKS_TOO_FAR), ("ZIP_MAX_ENTRIES", 5, ingest.TOO_MANY_ENTRIES),
     ("ZIP_MAX_UNPACKED_BYTES", 100_000, ingest.UNPACKS_TOO_LARGE)],
)  # fmt: skip
def test_a_package_past_the_card_limits_is_refused_whole(
    catalogue, ru_team, boris, example_zip, settings, limit, value, message
):
    # The tables compress about tenfold, as a ZIP bomb does a thousandfold.
    setattr(settings, limit, value)
    with pytest.raises(CommandError) as refused:
        run(example_zip, ru_team, boris)
    assert message in str(refused.value)
    assert counts()["Deployment"] == 0


def test_a_descriptor_too_broken_to_read_is_refused(catalogue, ru_team, boris, tmp_path):
    folder = tmp_path / "broken"
    shutil.copytree(EXAMPLE, folder)
    descriptor = json.loads((folder / "datapackage.json").read_text())
    descriptor["resources"] = [{"path": "deployments.csv"}]  # no name
    (folder / "datapackage.json").write_text(json.dumps(descriptor))
    with pytest.raises(CommandError, match="could not be read as a data package"):
        run(folder, ru_team, boris)
    assert counts()["Deployment"] == 0


# The upload page: a team's uploaders, and site admins, import a package through a worker.


def test_the_teams_uploaders_and_site_admins_may_import(client, viewers, cn_team):
    link = f'href="/teams/{cn_team.pk}/import/"'
    for name in ("cn-uploader", "site-admin"):
        client.force_login(viewers[name])
        assert client.get(f"/teams/{cn_team.pk}/import/").status_code == 200, name
        assert link in client.get(f"/teams/{cn_team.pk}/").content.decode(), name
    for name in ("cn-reviewer", "cn-admin", "ru-uploader", "ru-reviewer", "no-team"):
        client.force_login(viewers[name])
        assert client.get(f"/teams/{cn_team.pk}/import/").status_code == 403, name
        if name.startswith("cn-"):  # the team's page, without the link
            assert link not in client.get(f"/teams/{cn_team.pk}/").content.decode(), name
        with open(EXAMPLE / "datapackage.json", "rb") as file:
            response = client.post(f"/teams/{cn_team.pk}/import/", {"package": file})
        assert response.status_code == 403, name
    assert not ImportJob.objects.exists()


def test_a_file_that_is_not_a_zip_is_refused_on_upload(client, alice, cn_team, tmp_path):
    client.force_login(alice)
    disguised = tmp_path / "package.zip"
    disguised.write_bytes((EXAMPLE / "datapackage.json").read_bytes())
    with open(disguised, "rb") as file:
        response = client.post(f"/teams/{cn_team.pk}/import/", {"package": file})
    assert response.status_code == 200
    assert "The file is not a ZIP archive" in response.content.decode()
    assert not ImportJob.objects.exists()


def upload(client, team, path) -> ImportJob:
    with open(path, "rb") as file:
        response = client.post(f"/teams/{team.pk}/import/", {"package": file})
    job = ImportJob.objects.get(name=path.name)
    assert response.status_code == 302 and response.url == f"/imports/{job.pk}/"
    return job


def finished(job: ImportJob, worker) -> ImportJob:
    wait_until(lambda: ImportJob.objects.get(pk=job.pk).state not in ImportJob.ACTIVE, 180,
               worker.text)  # fmt: skip
    job.refresh_from_db()
    return job


@pytest.mark.django_db(transaction=True)
def test_a_worker_imports_a_package_uploaded_from_the_browser(
    client, catalogue, cn_team, alice, boris, example_zip, celery_worker
):
    client.force_login(alice)
    job = finished(upload(client, cn_team, example_zip), celery_worker)
    assert (job.state, job.owner, job.team, job.media_files) == ("done", alice, cn_team, 10)
    assert job.counts == {
        "locations": 4, "deployments": 4, "events": 34, "media": 423, "sightings": 36,
        "media observations": 513, "species": 8,  # taxa the catalogue lacks
    }  # fmt: skip
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert "The package was imported" in page and "<dd>513</dd>" in page
    assert client.get(f"/imports/{job.pk}/progress/").json()["finished"] is True
    assert Sighting.objects.filter(location__team=cn_team).count() == 36
    # Nobody else learns of it.
    client.force_login(boris)
    for url in ("", "progress/"):
        assert client.get(f"/imports/{job.pk}/{url}").status_code == 404
    wait_until_quiet(celery_worker)  # the package's images


@pytest.mark.django_db(transaction=True)
def test_a_package_that_does_not_validate_is_refused_from_the_browser_with_its_errors(
    client, catalogue, cn_team, alice, tmp_path, celery_worker
):
    folder = tmp_path / "broken"
    shutil.copytree(EXAMPLE, folder)
    edit(folder, "705e6036", observationType="tiger")
    client.force_login(alice)
    before = counts()
    job = finished(upload(client, cn_team, zipped(folder, tmp_path / "broken.zip")), celery_worker)
    assert job.state == "refused"
    assert any("observationType" in error and "tiger" in error for error in job.errors)
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert "does not validate as Camtrap DP, so nothing was imported" in page
    assert "tiger" in page
    assert counts() == before
