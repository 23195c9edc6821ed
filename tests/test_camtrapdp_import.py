"""Camtrap DP import (sightings/camtrapdp_import.py): the official example imports
completely, a package that does not validate is refused with nothing written, and importing
the same package twice creates nothing twice."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import zipfile

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from sightings.models import Deployment, Event, Location, Media, Sighting, SightingChange

from .conftest import TESTDATA

EXAMPLE = TESTDATA / "camera-trap" / "camtrap-dp-example"
PACKAGE = "7cca70f5-ef8c-4f86-85fb-8f070937d7ab/"


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Location, Deployment, Event, Media, Sighting, SightingChange)
    }


def run(path, team, user) -> str:
    out = io.StringIO()
    call_command("import_camtrapdp", str(path), "--team", team.name, "--user", user.username,
                 stdout=out)  # fmt: skip
    return out.getvalue()


@pytest.fixture
def example_zip(tmp_path):
    path = tmp_path / "example.zip"
    with zipfile.ZipFile(path, "w") as package:
        for file in EXAMPLE.rglob("*"):
            if file.is_file():
                package.write(file, file.relative_to(EXAMPLE).as_posix())
    return path


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
