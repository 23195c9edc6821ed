"""Import a Camtrap DP 1.0.2 package (a folder or a zip) into one team's data.

The package is validated first with the export's validator (camtrapdp_validation.validate);
one that does not validate is refused with its errors and nothing is written. Then, in one
transaction:
- locations by locationName (the team's stations are unique by name), coordinates from
  the first deployment naming them;
- deployments, with a time zone worked out from their timestamps' offset (Etc/GMT-N: a
  package states offsets, not zone names);
- events from the observations' eventID, start and end, and one sighting per event-based
  observation, marked "imported";
- media: a file inside the package goes through the normal upload pipeline (ingest.add_file,
  a worker reads it); one referenced by URL is recorded with its URL and timestamp only
  (Media.source_url, no file). Media-based observations name the species of their image
  (Media.folder_species), which is how the export writes them back out.

Every row keeps its id in the package, prefixed with the package's id (source_id), so
importing the same package again finds them instead of creating them twice.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from django.core.files import File
from django.db import transaction

from sightings import camtrapdp_validation, independence, ingest, protection
from sightings.models import (
    Deployment,
    Event,
    Location,
    Media,
    Sighting,
    SightingChange,
    Species,
    Team,
    UploadBatch,
)

InvalidPackage = camtrapdp_validation.InvalidPackage
SEXES = {"female", "male", "unknown"}
LIFE_STAGES = {choice.value for choice in Sighting.LifeStage}


@dataclass
class Result:
    created: dict[str, int] = field(default_factory=dict)
    media_files: int = 0  # sent through the upload pipeline


def import_package(path: Path, team: Team, user) -> Result:
    """Import the package at path (a folder or a zip) for the team, as user (who uploads
    its files). Raises InvalidPackage, writing nothing, if it does not validate."""
    path = Path(path)
    if path.is_dir():
        return _import_folder(path, team, user)
    with tempfile.TemporaryDirectory(prefix="camtrapdp-import-") as folder:
        _unzip(path, Path(folder))
        return _import_folder(Path(folder), team, user)


def _unzip(path: Path, folder: Path) -> None:
    with zipfile.ZipFile(path) as package:
        for entry in package.infolist():
            name = ingest.safe_entry_path(entry.filename)
            if name is None or entry.is_dir():
                continue  # a path that would escape the folder is never written
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            with package.open(entry) as source, open(target, "wb") as out:
                while chunk := source.read(1 << 20):
                    out.write(chunk)


def _import_folder(folder: Path, team: Team, user) -> Result:
    camtrapdp_validation.validate(folder)
    descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    importer = _Importer(folder, descriptor, team, user)
    with transaction.atomic():
        importer.run()
    return importer.result


def _rows(folder: Path, table: str) -> list[dict]:
    with open(folder / f"{table}.csv", newline="", encoding="utf-8") as file:
        # Empty cells are missing values, as the schemas read them.
        return [{key: value for key, value in row.items() if value} for row in csv.DictReader(file)]


def _instant(text: str | None) -> dt.datetime | None:
    # The schemas allow a trailing Z, which fromisoformat reads from Python 3.11 on.
    return dt.datetime.fromisoformat(text) if text else None


def zone_name(stamp: dt.datetime) -> str:
    """The IANA zone of a fixed offset (Etc/GMT-2 is UTC+02:00: POSIX signs are inverted),
    or "" for an offset no Etc zone has (e.g. +05:30): times stay right, stored in UTC."""
    seconds = stamp.utcoffset().total_seconds()
    if seconds % 3600:
        return ""
    hours = int(seconds // 3600)
    return "Etc/UTC" if hours == 0 else f"Etc/GMT{-hours:+d}"


class _Importer:
    def __init__(self, folder: Path, descriptor: dict, team: Team, user) -> None:
        self.folder, self.team, self.user = folder, team, user
        self.prefix = str(descriptor.get("id") or descriptor["name"]) + "/"
        self.taxa = {t["scientificName"]: t for t in descriptor.get("taxonomic", [])}
        self.result = Result()
        self.deployments: dict[str, Deployment] = {}
        self.events: dict[str, Event] = {}
        self.species: dict[tuple[str, str], Species] = {}
        self.batches: dict[str, UploadBatch] = {}

    def _count(self, what: str) -> None:
        self.result.created[what] = self.result.created.get(what, 0) + 1

    def run(self) -> None:
        observations = _rows(self.folder, "observations")
        for row in _rows(self.folder, "deployments"):
            self.deployments[row["deploymentID"]] = self._deployment(row)
        for row in observations:
            self._event(row)
        media_species = {
            row["mediaID"]: self._species(row)
            for row in observations
            if row["observationLevel"] == "media" and row["observationType"] != "blank"
        }
        for row in _rows(self.folder, "media"):
            self._media(row, media_species.get(row["mediaID"]))
        for row in observations:
            if row["observationLevel"] == "event":
                self._sighting(row)

    def _deployment(self, row: dict) -> Deployment:
        source = self.prefix + row["deploymentID"]
        found = Deployment.objects.filter(location__team=self.team, source_id=source).first()
        if found:
            return found
        location, created = Location.objects.get_or_create(
            team=self.team, name=row.get("locationName") or row.get("locationID") or source,
            defaults={"latitude": float(row["latitude"]), "longitude": float(row["longitude"]),
                      "country": self.team.country, "habitat": row.get("habitat", "")},
        )  # fmt: skip
        if created:
            self._count("locations")
        start = _instant(row["deploymentStart"])
        camera = row.get("cameraModel", "")
        make, _, model = camera.partition("-") if "-" in camera else ("", "", camera)
        self._count("deployments")
        return Deployment.objects.create(
            location=location, start_at=start, end_at=_instant(row["deploymentEnd"]),
            time_zone=zone_name(start), camera_make=make[:100], camera_model=model[:100],
            camera_serial=row.get("cameraID", "")[:100], source_id=source,
        )  # fmt: skip

    def _event(self, row: dict) -> None:
        """The event of an observation: its eventID, or the observation itself if none."""
        key = row.get("eventID") or row["observationID"]
        if key in self.events:
            return
        deployment = self.deployments[row["deploymentID"]]
        source = self.prefix + key
        event = deployment.events.filter(source_id=source).first()
        if event is None:
            event = Event.objects.create(
                deployment=deployment, start_at=_instant(row["eventStart"]),
                end_at=_instant(row["eventEnd"]), source_id=source,
            )  # fmt: skip
            self._count("events")
        self.events[key] = event

    def _species(self, row: dict) -> Species | None:
        kind = row["observationType"]
        if kind == "unclassified":
            return None  # not named yet: a draft
        name = row.get("scientificName", "") if kind == Species.Kind.ANIMAL else ""
        if kind == Species.Kind.ANIMAL and not name:
            kind = Species.Kind.UNKNOWN  # an animal nobody named
        if (kind, name) not in self.species:
            self.species[kind, name] = self._find_species(kind, name)
        return self.species[kind, name]

    def _find_species(self, kind: str, name: str) -> Species:
        if kind != Species.Kind.ANIMAL:
            species = Species.objects.filter(kind=kind).first()
            if species:
                return species
            label = Species.Kind(kind).label
            return Species.objects.create(kind=kind, name_en=label, name_zh=label, name_ru=label)
        species = Species.objects.filter(kind=kind, scientific_name=name).first()
        if species:
            return species
        # A taxon the catalogue lacks: named as the package's taxonomic list names it.
        taxon = self.taxa.get(name, {})
        names = taxon.get("vernacularNames", {})
        self._count("species")
        return Species.objects.create(
            kind=kind, scientific_name=name, rank=taxon.get("taxonRank", ""),
            name_en=names.get("eng", name), name_zh=names.get("zho", name),
            name_ru=names.get("rus", name),
        )  # fmt: skip

    def _media(self, row: dict, species: Species | None) -> None:
        deployment = self.deployments[row["deploymentID"]]
        source = self.prefix + row["mediaID"]
        if deployment.media.filter(source_id=source).exists():
            return
        captured = _instant(row["timestamp"])
        event = (
            deployment.events.filter(start_at__lte=captured, end_at__gte=captured)
            .order_by("start_at")
            .first()
        )
        path = row["filePath"]
        local = self.folder / path
        if "://" not in path and local.is_file() and self._ingest(deployment, row, local, event):
            return
        Media.objects.create(
            batch=self._batch(deployment), deployment=deployment, sha256=None,
            original_name=row.get("fileName", path.rsplit("/", 1)[-1])[:255], file_size=0,
            source_url=path if "://" in path else "", source_id=source,
            state=Media.State.PROCESSED, camera_time=captured.replace(tzinfo=None).isoformat(),
            camera_offset=captured.strftime("%z"), captured_at=captured, event=event,
            folder_species=species,
        )  # fmt: skip
        self._count("media")

    def _ingest(self, deployment: Deployment, row: dict, local: Path, event) -> bool:
        """Send a file inside the package through the upload pipeline, in its event; False
        if the pipeline skipped it (then it is recorded as a reference)."""
        batch = self._batch(deployment)
        with open(local, "rb") as file:
            upload = File(file, name=local.name)
            media = ingest.add_file(
                batch, upload, name=row.get("fileName", local.name), folder="",
                sha256=_sha256(file),
            )  # fmt: skip
        if media is None:
            return False
        # Placed in its imported event now: grouping takes only images in no event.
        source = self.prefix + row["mediaID"]
        Media.objects.filter(pk=media.pk).update(source_id=source, event=event)
        self.result.media_files += 1
        self._count("media")
        return True

    def _batch(self, deployment: Deployment) -> UploadBatch:
        if deployment.pk not in self.batches:
            self.batches[deployment.pk] = UploadBatch.objects.create(
                deployment=deployment, uploaded_by=self.user
            )
        return self.batches[deployment.pk]

    def _sighting(self, row: dict) -> None:
        event = self.events[row.get("eventID") or row["observationID"]]
        source = self.prefix + row["observationID"]
        if event.sightings.filter(source_id=source).exists():
            return
        species = self._species(row)
        comment = row.get("observationComments", "")
        if row.get("classifiedBy"):
            # Not one of our users: kept in words, as the package gives it.
            comment = f"{comment}\nclassifiedBy: {row['classifiedBy']}".strip()
        sighting = Sighting.objects.create(
            event=event, **event.placement(), species=species,
            count=int(row["count"]) if "count" in row else None,
            sex=row.get("sex", "") if row.get("sex") in SEXES else "",
            life_stage=row.get("lifeStage", "") if row.get("lifeStage") in LIFE_STAGES else "",
            behaviour=row.get("behavior", "")[:255], comment=comment,
            classified_at=_instant(row.get("classificationTimestamp")),
            classification_method=Sighting.Method.IMPORTED if species else "",
            source_id=source,
        )  # fmt: skip
        if species:
            SightingChange.objects.create(
                sighting=sighting, changed_by=self.user, method=Sighting.Method.IMPORTED,
                changes={"species": ["", species.record_name]},
            )  # fmt: skip
            independence.mark_stale(event.deployment.location_id, [species.pk])
            protection.note_species(event.deployment.location_id, [species])
        self._count("sightings")


def _sha256(file) -> str:
    digest = hashlib.sha256()
    file.seek(0)
    while chunk := file.read(1 << 20):
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()
