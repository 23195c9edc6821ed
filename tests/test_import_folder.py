from __future__ import annotations

import datetime as dt
import io
import shutil

import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from sightings.models import Deployment, Location, Media, Sighting, Species

from .conftest import CAMTRAPR

STATION_A = CAMTRAPR / "sample_images_species_dir" / "StationA"


@pytest.fixture
def card(tmp_path):
    """StationA of camtrapR's sample, plus what real cards also hold."""
    root = tmp_path / "card"
    shutil.copytree(STATION_A, root / "StationA")
    (root / "StationA" / "PBE" / "broken.JPG").write_bytes(b"\xff\xd8\xff\xe0battery")
    (root / "StationA" / "PBE" / "empty.JPG").write_bytes(b"")
    (root / "StationA" / "PBE" / "notes.txt").write_text("battery 80%")
    Image.new("RGB", (8, 8)).save(root / "StationA" / "PBE" / "IMG_0001.txt", "JPEG")
    return root


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("import_folder", *map(str, args), stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_unknown_folder_names_stop_the_import_before_anything_is_stored(card, alice, cn_team):
    with pytest.raises(CommandError) as error:
        run(card, "--team", cn_team.name, "--timezone", "Asia/Kuala_Lumpur", "--no-wait")
    assert "no species the catalogue knows: PBE, VTA" in str(error.value)
    assert not Media.objects.exists()
    assert not Location.objects.filter(name="StationA").exists()


@pytest.mark.django_db(transaction=True)
def test_it_imports_stations_as_deployments_and_reports(
    card, tmp_path, catalogue, alice, cn_team, celery_worker
):
    species_map = tmp_path / "map.csv"
    species_map.write_text("PBE,Prionailurus bengalensis\nVTA,Viverra tangalunga\n")
    options = ["--team", cn_team.name, "--timezone", "Asia/Kuala_Lumpur"]
    options += ["--species-map", species_map, "--add-species"]
    summary = run(card, *options)
    deployment = Deployment.objects.get(location__name="StationA", location__team=cn_team)
    assert summary.splitlines()[0] == (
        f"StationA: 10 imported, 0 already in the exchange, 0 duplicates, 2 skipped, "
        f"1 failed (deployment {deployment.pk})"
    )
    # Typed by content: the JPEG named .txt is imported, the rest is told apart.
    assert (
        "  failed: StationA/PBE/broken.JPG: The file is not an image that can be read. "
        "(OSError: Truncated File Read)"
    ) in summary
    assert (
        "  skipped: StationA/PBE/empty.JPG: The file is empty: the camera may have lost power "
        "while writing it. (0 bytes)"
    ) in summary
    assert (
        "  skipped: StationA/PBE/notes.txt: The file is not an image: only JPEG, PNG, TIFF, HEIF "
        "and WebP images are imported. (starts with "
    ) in summary
    # The deployment spans its images: 2009-04-10 05:07 to 2009-05-07 17:11, UTC+8.
    assert (deployment.start_at, deployment.end_at, deployment.time_zone) == (
        dt.datetime(2009, 4, 9, 21, 7, tzinfo=dt.UTC),
        dt.datetime(2009, 5, 7, 9, 11, tzinfo=dt.UTC),
        "Asia/Kuala_Lumpur",
    )
    assert not Media.objects.filter(is_outside_deployment=True).exists()
    folder_named = Sighting.objects.filter(classification_method="folder")
    assert sorted(folder_named.values_list("species__scientific_name", flat=True)) == (
        ["Prionailurus bengalensis"] * 6 + ["Viverra tangalunga"] * 2
    )
    assert Species.objects.get(scientific_name="Viverra tangalunga").name_en == "Viverra tangalunga"
    # Safe to run again after an interruption: nothing twice; what failed is tried again.
    again = run(card, *options)
    assert again.splitlines()[0].startswith("StationA: 0 imported, 9 already in the exchange,")
    assert "  retried: StationA/PBE/broken.JPG: The same file was uploaded before" in again
    assert Media.objects.count() == 10


@pytest.mark.django_db(transaction=True)
def test_it_imports_a_species_tree_into_one_deployment(
    tmp_path, catalogue, alice, cn_deployment, celery_worker
):
    shutil.copytree(STATION_A / "PBE", tmp_path / "Leopard cat")
    summary = run(
        tmp_path, "--team", cn_deployment.location.team.name, "--deployment", cn_deployment.pk
    )
    assert summary.startswith("HC-07: 6 imported")
    assert set(Media.objects.values_list("deployment", "folder")) == {
        (cn_deployment.pk, "Leopard cat")
    }
    assert (
        Sighting.objects.filter(
            species__name_en="Leopard cat", classification_method="folder"
        ).count()
        == 6
    )


def test_it_refuses_files_outside_station_folders(tmp_path, alice, cn_team):
    shutil.copy(STATION_A / "PBE" / "StationA__2009-04-21__00-40-00(1).JPG", tmp_path)
    with pytest.raises(CommandError, match="1 files lie outside station folders"):
        run(tmp_path, "--team", cn_team.name, "--timezone", "Asia/Shanghai")


def test_mapped_names_must_be_in_the_catalogue_or_added(tmp_path, alice, cn_team):
    species_map = tmp_path / "map.csv"
    species_map.write_text("PBE,ignore\nVTA,Viverra tangalunga\n")
    with pytest.raises(CommandError, match="'Viverra tangalunga' .* add --add-species"):
        run(
            STATION_A.parent,
            "--team",
            cn_team.name,
            "--timezone",
            "UTC",
            "--species-map",
            species_map,
        )


@pytest.mark.parametrize("who", ["boris", "charlie"])
def test_it_imports_only_as_an_uploader_of_the_team(card, cn_team, boris, charlie, who):
    with pytest.raises(CommandError, match=f"{who} may not upload for Hunchun"):
        run(card, "--team", cn_team.name, "--timezone", "Asia/Shanghai", "--user", who)
    assert not Media.objects.exists()
