"""Camtrap DP validation (sightings/camtrapdp_validation.py): keys are checked on disk, and
they find what frictionless itself finds when it is given the whole package with its keys."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import frictionless
import pytest

from sightings import camtrapdp_validation
from sightings.camtrapdp_validation import TABLES, InvalidPackage, schema, validate

EXAMPLE = Path(__file__).resolve().parent / "data" / "camera-trap" / "camtrap-dp-example"


@pytest.fixture
def package(tmp_path) -> Path:
    folder = tmp_path / "package"
    shutil.copytree(EXAMPLE, folder)
    return folder


def edit(folder: Path, table: str, change) -> None:
    """Apply change(rows) to a table's rows (dicts), keeping its columns."""
    path = folder / f"{table}.csv"
    with open(path, newline="", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        columns, rows = reader.fieldnames, list(reader)
    change(rows)
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


def frictionless_key_errors(folder: Path) -> set[str]:
    """What frictionless reports given the official schemas with their keys."""
    descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    descriptor["profile"] = "data-package"
    descriptor["resources"] = [
        {**resource, "schema": schema(resource["name"]), "profile": "tabular-data-resource"}
        for resource in descriptor["resources"]
        if resource["name"] in TABLES
    ]
    report = frictionless.Package(descriptor, basepath=str(folder)).validate()
    return {error.type for task in report.tasks for error in task.errors}


def test_the_official_example_validates(package):
    validate(package)
    assert frictionless_key_errors(package) == set()


def test_a_repeated_observation_id_is_refused(package):
    def repeat(rows):
        rows[5]["observationID"] = rows[2]["observationID"]

    edit(package, "observations", repeat)
    with pytest.raises(InvalidPackage) as refused:
        validate(package)
    [error] = refused.value.errors
    assert error.startswith("observations: observationID ")
    assert "is not unique: rows 4 and 7" in error  # the header is row 1, as frictionless counts
    assert {"primary-key", "unique-error"} & frictionless_key_errors(package)


def test_media_of_a_deployment_not_in_the_package_is_refused(package):
    def move(rows):
        rows[0]["deploymentID"] = "nowhere"

    edit(package, "media", move)
    with pytest.raises(InvalidPackage) as refused:
        validate(package)
    assert refused.value.errors == ["media: row 2: deploymentID nowhere is not in deployments"]
    assert "foreign-key" in frictionless_key_errors(package)


def test_an_observation_of_an_image_not_in_the_package_is_refused(package):
    def point_away(rows):
        named = next(row for row in rows if row["mediaID"])
        named["mediaID"] = "missing-image"

    edit(package, "observations", point_away)
    with pytest.raises(InvalidPackage, match="mediaID missing-image is not in media"):
        validate(package)
    assert "foreign-key" in frictionless_key_errors(package)


def test_event_observations_need_no_image(package):
    """An empty foreign key is not a reference: event-based observations have no mediaID."""
    with open(package / "observations.csv", encoding="utf-8") as file:
        assert any(not row["mediaID"] for row in csv.DictReader(file))
    validate(package)


def test_cell_errors_are_reported_by_frictionless_without_key_noise(package):
    def break_cells(rows):
        rows[0]["observationType"] = "tiger"
        rows[1]["count"] = "0"

    edit(package, "observations", break_cells)
    with pytest.raises(InvalidPackage) as refused:
        validate(package)
    assert len(refused.value.errors) == 2
    assert all(error.startswith("observations: ") for error in refused.value.errors)


def test_many_key_errors_are_capped(package, monkeypatch):
    monkeypatch.setattr(camtrapdp_validation, "ERRORS_PER_KEY", 3)

    def orphan(rows):
        for row in rows:
            row["deploymentID"] = "gone"

    edit(package, "media", orphan)
    with pytest.raises(InvalidPackage) as refused:
        validate(package)
    assert len(refused.value.errors) == 3
