"""Import a Camtrap DP 1.0.2 package (a folder or a zip) into one team's data.

A zip is unpacked within the limits an uploaded card is held to (ingest.Allowance:
ZIP_MAX_ENTRIES, ZIP_MAX_UNPACKED_BYTES, ZIP_MAX_RATIO), its datapackage.json at its top or
in its one top folder. The package is validated first with the export's validator
(camtrapdp_validation.validate); one that does not validate is refused with its errors and
nothing is written. Then, in one transaction, the team's row locked so that two imports
into it take turns:
- locations by locationName (the team's stations are unique by name), coordinates from
  the first deployment naming them;
- deployments, with a time zone worked out from their timestamps: a package states
  offsets, not zone names, so it is the zone that gives every timestamp of the deployment
  the offset the package writes (_Zones): its fixed offset (Etc/GMT-N) if that does, else
  one of the team's country's zones, else any; so a Russian deployment of 2009, in summer
  time then and named in winter now, is Asia/Vladivostok, and exports again as it came;
- events from the observations' eventID, from the earliest start to the latest end its
  rows give, and one sighting per event-based observation, marked "imported", with who
  classified it and how as the package says (classifiedBy is a name, not one of our users);
- individuals by individualID: the exchange's individual with that code if it is of the
  same species, else a new one of the team's (a code of another species stays in the
  sighting's comment);
- media: a file inside the package goes through the normal upload pipeline (ingest.add_file,
  a worker reads it); one referenced by URL is recorded with its URL, timestamp, type and
  capture method only (Media.source_url, no file);
- every media-based observation as a MediaObservation of its image (an image may have
  several), the first species they name being the image's folder_species, as a card folder
  names an image.

Every row keeps its id in the package, prefixed with the package's id (source_id), so
importing the same package again finds them instead of creating them twice.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import logging
import tempfile
import zipfile
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from sightings import (
    camtrapdp_export,
    camtrapdp_jobs,
    camtrapdp_validation,
    independence,
    ingest,
    protection,
)
from sightings.models import (
    FORMAT_TYPES,
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
    Team,
    UploadBatch,
)

logger = logging.getLogger(__name__)

InvalidPackage = camtrapdp_validation.InvalidPackage
SEXES = {"female", "male", "unknown"}
LIFE_STAGES = {choice.value for choice in Sighting.LifeStage}
METHODS = {value for value, _ in Sighting.PACKAGE_METHODS}
TRIGGER_MODES = {method: code for code, method in camtrapdp_export.CAPTURE_METHODS.items()}
FORMATS = {content_type: format for format, (content_type, _) in FORMAT_TYPES.items()}

# Why a package was refused before it could be validated: fixed English sentences,
# translated when shown (the validator's own messages are shown as they are).
NO_DESCRIPTOR = gettext_noop(
    "The archive holds no datapackage.json: it is not a Camtrap DP package."
)
UNREADABLE = gettext_noop("datapackage.json could not be read as a data package.")


@dataclass
class Result:
    created: dict[str, int] = field(default_factory=dict)
    media_files: int = 0  # sent through the upload pipeline


def import_package(
    path: Path, team: Team, user, progress: Callable[[str], None] | None = None
) -> Result:
    """Import the package at path (a folder or a zip) for the team, as user (who uploads
    its files). Raises InvalidPackage, writing nothing, if it is refused. progress(stage) is
    told "validating", then "importing"."""
    path, progress = Path(path), progress or (lambda stage: None)
    if path.is_dir():
        return _import_folder(_root(path), team, user, progress)
    with tempfile.TemporaryDirectory(prefix="camtrapdp-import-") as folder:
        _unzip(path, Path(folder))
        return _import_folder(_root(Path(folder)), team, user, progress)


def _unzip(path: Path, folder: Path) -> None:
    """Unpack the zip as a card's zip is unpacked, entry by entry within ingest's limits;
    a limit reached refuses the whole package."""
    try:
        with zipfile.ZipFile(path) as package:
            entries = [entry for entry in package.infolist() if not entry.is_dir()]
            if len(entries) > settings.ZIP_MAX_ENTRIES:
                raise InvalidPackage([ingest.TOO_MANY_ENTRIES])
            allowance = ingest.Allowance(archive_size=path.stat().st_size)
            for entry in entries:
                _unpack(package, entry, folder, allowance)
    except ingest.LimitReached as limit:
        logger.info("Camtrap DP package %s refused: %s", path.name, limit.detail)
        raise InvalidPackage([limit.message]) from limit
    except (zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError) as error:
        # RuntimeError: zipfile's word for an entry protected by a password.
        logger.info("Camtrap DP package %s refused: %s", path.name, error)
        raise InvalidPackage([ingest.BROKEN_ARCHIVE]) from error


def _unpack(
    package: zipfile.ZipFile, entry: zipfile.ZipInfo, folder: Path, allowance: ingest.Allowance
) -> None:
    name = ingest.safe_entry_path(entry.filename)
    if name is None:
        return  # a path that would escape the folder is never written
    target = folder / name
    target.parent.mkdir(parents=True, exist_ok=True)
    with package.open(entry) as source, open(target, "wb") as out:
        while chunk := source.read(ingest.CHUNK_SIZE):
            allowance.take(len(chunk), out.tell(), entry.file_size)
            out.write(chunk)


def _root(folder: Path) -> Path:
    """The package's folder: the one given, or the one folder in it that holds a
    datapackage.json (a zipped folder, perhaps beside macOS's __MACOSX)."""
    if (folder / "datapackage.json").is_file():
        return folder
    inside = [path for path in folder.iterdir() if (path / "datapackage.json").is_file()]
    if len(inside) == 1:
        return inside[0]
    raise InvalidPackage([NO_DESCRIPTOR])


def _import_folder(folder: Path, team: Team, user, progress: Callable[[str], None]) -> Result:
    progress("validating")
    _validate(folder)
    descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    importer = _Importer(folder, descriptor, team, user)
    progress("importing")
    with transaction.atomic():
        # Two imports into one team at once (the same package uploaded twice, a job sent
        # again) would each miss the other's rows and create them twice: they take turns.
        Team.objects.select_for_update().filter(pk=team.pk).first()
        importer.run()
    return importer.result


def _validate(folder: Path) -> None:
    """camtrapdp_validation.validate, with a descriptor too broken for it to read (a resource
    without a name, a list for an object) refused rather than crashing the import."""
    from frictionless import FrictionlessException

    try:
        camtrapdp_validation.validate(folder)
    except InvalidPackage:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, FrictionlessException) as error:
        logger.info("Camtrap DP package in %s unreadable: %r", folder, error)
        raise InvalidPackage([UNREADABLE]) from error


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


@cache
def _all_zones(country: str) -> tuple[zoneinfo.ZoneInfo, ...]:
    """Every IANA zone, the country's first (from the tz database's zone1970.tab, where it is
    installed)."""
    names = sorted(zoneinfo.available_timezones())
    for folder in zoneinfo.TZPATH:
        table = Path(folder) / "zone1970.tab"
        if table.is_file():
            rows = [line.split("\t") for line in table.read_text(encoding="utf-8").splitlines()]
            ours = [row[2] for row in rows if len(row) > 2 and country in row[0].split(",")]
            names = [name for name in ours if name in names] + names
            break
    return tuple(zoneinfo.ZoneInfo(name) for name in dict.fromkeys(names))


class _Zones:
    """Per deployment, the zones that give each of its timestamps the offset it is written
    with; narrowed as timestamps are seen. A time written in UTC ("Z", as many platforms
    write observations) says nothing of the camera's zone and is passed over."""

    def __init__(self, country: str) -> None:
        self.country = country
        self.fits: dict[str, list[zoneinfo.ZoneInfo]] = {}

    def see(self, deployment: str, text: str | None) -> None:
        if not text or text.endswith("Z"):
            return
        stamp = _instant(text)
        if deployment not in self.fits:
            fixed = [zoneinfo.ZoneInfo(name)] if (name := zone_name(stamp)) else []
            self.fits[deployment] = fixed + list(_all_zones(self.country))
        offset, fits = stamp.utcoffset(), self.fits[deployment]
        self.fits[deployment] = [z for z in fits if stamp.astimezone(z).utcoffset() == offset]

    def name(self, deployment: str, start: dt.datetime) -> str:
        """The first zone that fits, else the fixed offset of its start (times stay right)."""
        fits = self.fits.get(deployment)
        return fits[0].key if fits else zone_name(start)


def _event_key(row: dict) -> str | None:
    """The event an observation belongs to: its eventID; an event-based one without one
    is an event of its own."""
    if row.get("eventID"):
        return row["eventID"]
    return row["observationID"] if row["observationLevel"] == "event" else None


def _naming(row: dict) -> dict:
    """What an observation says of its animals and who classified them, as our fields."""
    return {
        "count": int(row["count"]) if "count" in row else None,
        "sex": row.get("sex", "") if row.get("sex") in SEXES else "",
        "life_stage": row.get("lifeStage", "") if row.get("lifeStage") in LIFE_STAGES else "",
        "behaviour": row.get("behavior", "")[:255],
        "classified_by_name": row.get("classifiedBy", "")[:255],
        "classified_at": _instant(row.get("classificationTimestamp")),
    }


class _Importer:
    def __init__(self, folder: Path, descriptor: dict, team: Team, user) -> None:
        self.folder, self.team, self.user = folder, team, user
        self.prefix = str(descriptor.get("id") or descriptor["name"]) + "/"
        self.taxa = {t["scientificName"]: t for t in descriptor.get("taxonomic", [])}
        self.result = Result()
        self.deployments: dict[str, Deployment] = {}
        self.events: dict[str, Event] = {}
        self.media: dict[str, Media] = {}
        self.species: dict[tuple[str, str], Species] = {}
        self.individuals: dict[tuple[str, int], Individual | None] = {}
        self.batches: dict[int, UploadBatch] = {}

    def _count(self, what: str) -> None:
        self.result.created[what] = self.result.created.get(what, 0) + 1

    def run(self) -> None:
        deployments, media = _rows(self.folder, "deployments"), _rows(self.folder, "media")
        observations = _rows(self.folder, "observations")
        zones = self._zones(deployments, media, observations)
        for row in deployments:
            zone = zones.name(row["deploymentID"], _instant(row["deploymentStart"]))
            self.deployments[row["deploymentID"]] = self._deployment(row, zone)
        self._events(observations)
        by_media = [row for row in observations if row["observationLevel"] == "media"]
        image_species: dict[str, Species | None] = {}
        for row in by_media:
            if row["observationType"] not in ("blank", "unclassified"):
                image_species.setdefault(row.get("mediaID"), self._species(row))
        for row in media:
            self.media[row["mediaID"]] = self._media(row, image_species.get(row["mediaID"]))
        for row in observations:
            if row["observationLevel"] == "event":
                self._sighting(row)
        for row in by_media:
            self._media_observation(row)

    def _zones(self, deployments: list[dict], media: list[dict], observations: list[dict]):
        """Every timestamp the export writes in a deployment's zone, seen by _Zones."""
        zones = _Zones(self.team.country)
        for row in deployments:
            for column in ("deploymentStart", "deploymentEnd"):
                zones.see(row["deploymentID"], row.get(column))
        for row in media:
            zones.see(row["deploymentID"], row["timestamp"])
        for row in observations:
            for column in ("eventStart", "eventEnd", "classificationTimestamp"):
                zones.see(row["deploymentID"], row.get(column))
        return zones

    def _deployment(self, row: dict, zone: str) -> Deployment:
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
            time_zone=zone, camera_make=make[:100], camera_model=model[:100],
            camera_serial=row.get("cameraID", "")[:100], source_id=source,
        )  # fmt: skip

    def _events(self, observations: list[dict]) -> None:
        """The observations' events, each from the earliest start to the latest end its
        rows give (a media-based row gives its image's moment only)."""
        spans: dict[str, tuple[str, dt.datetime, dt.datetime]] = {}
        for row in observations:
            key = _event_key(row)
            if key is None:
                continue
            start, end = _instant(row["eventStart"]), _instant(row["eventEnd"])
            if key in spans:
                _, first, last = spans[key]
                start, end = min(start, first), max(end, last)
            spans[key] = (row["deploymentID"], start, end)
        for key, (deployment, start, end) in spans.items():
            self.events[key] = self._event(key, self.deployments[deployment], start, end)

    def _event(self, key: str, deployment: Deployment, start, end) -> Event:
        source = self.prefix + key
        event = deployment.events.filter(source_id=source).first()
        if event is None:
            event = Event.objects.create(
                deployment=deployment, start_at=start, end_at=end, source_id=source
            )
            self._count("events")
        return event

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

    def _individual(self, code: str, species: Species | None) -> Individual | None:
        """The individual a code names: the exchange's own (codes are one catalogue for
        all teams, so a tiger seen across the border is the same row), else a new one of
        this team's; None if the code is another species' or too long to be a code."""
        if species is None or species.kind != Species.Kind.ANIMAL:
            return None
        if (code, species.pk) not in self.individuals:
            found = Individual.objects.filter(code=code).first()
            if found is None and len(code) <= Individual._meta.get_field("code").max_length:
                found = Individual.objects.create(code=code, species=species, team=self.team)
                self._count("individuals")
            same = found is not None and found.species_id == species.pk
            self.individuals[code, species.pk] = found if same else None
        return self.individuals[code, species.pk]

    def _media(self, row: dict, species: Species | None) -> Media:
        deployment = self.deployments[row["deploymentID"]]
        source = self.prefix + row["mediaID"]
        found = deployment.media.filter(source_id=source).first()
        if found:
            return found
        captured = _instant(row["timestamp"])
        event = (
            deployment.events.filter(start_at__lte=captured, end_at__gte=captured)
            .order_by("start_at")
            .first()
        )
        path = row["filePath"]
        local = self.folder / path
        if "://" not in path and local.is_file():
            media = self._ingest(deployment, row, local, event, species)
            if media is not None:
                return media
        self._count("media")
        return Media.objects.create(
            batch=self._batch(deployment), deployment=deployment, sha256=None,
            original_name=row.get("fileName", path.rsplit("/", 1)[-1])[:255], file_size=0,
            source_url=path if "://" in path else "", source_id=source,
            format=FORMATS.get(row["fileMediatype"], ""),
            trigger_mode=TRIGGER_MODES.get(row.get("captureMethod"), ""),
            state=Media.State.PROCESSED, camera_time=captured.replace(tzinfo=None).isoformat(),
            camera_offset=captured.strftime("%z"), captured_at=captured, event=event,
            folder_species=species,
        )  # fmt: skip

    def _ingest(
        self, deployment: Deployment, row: dict, local: Path, event, species
    ) -> Media | None:
        """Send a file inside the package through the upload pipeline, in its event; None
        if the pipeline skipped it (then it is recorded as a reference)."""
        batch = self._batch(deployment)
        with open(local, "rb") as file:
            upload = File(file, name=local.name)
            media = ingest.add_file(
                batch, upload, name=row.get("fileName", local.name), folder="",
                sha256=_sha256(file),
            )  # fmt: skip
        if media is None:
            return None
        # Placed in its imported event now: grouping takes only images in no event.
        source = self.prefix + row["mediaID"]
        Media.objects.filter(pk=media.pk).update(
            source_id=source, event=event, folder_species=species
        )
        self.result.media_files += 1
        self._count("media")
        return media

    def _batch(self, deployment: Deployment) -> UploadBatch:
        if deployment.pk not in self.batches:
            self.batches[deployment.pk] = UploadBatch.objects.create(
                deployment=deployment, uploaded_by=self.user
            )
        return self.batches[deployment.pk]

    def _sighting(self, row: dict) -> None:
        event = self.events[_event_key(row)]
        source = self.prefix + row["observationID"]
        if event.sightings.filter(source_id=source).exists():
            return
        species = self._species(row)
        individual, comment = self._individual_and_comment(row, species)
        method = row.get("classificationMethod", "")
        sighting = Sighting.objects.create(
            event=event, **event.placement(), species=species, **_naming(row),
            individual=individual, comment=comment,
            classification_method=Sighting.Method.IMPORTED if species else "",
            source_classification_method=method if method in METHODS else "",
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

    def _individual_and_comment(self, row: dict, species: Species | None) -> tuple:
        comment, code = row.get("observationComments", ""), row.get("individualID")
        individual = self._individual(code, species) if code else None
        if code and individual is None:
            # Not one of the exchange's individuals: kept in words, as the package gives it.
            comment = f"{comment}\nindividualID: {code}".strip()
        return individual, comment

    def _media_observation(self, row: dict) -> None:
        media = self.media.get(row.get("mediaID"))
        source = self.prefix + row["observationID"]
        if media is None or media.observations.filter(source_id=source).exists():
            return
        species = self._species(row)
        individual, comment = self._individual_and_comment(row, species)
        method = row.get("classificationMethod", "")
        MediaObservation.objects.create(
            media=media, species=species, **_naming(row), individual=individual,
            comment=comment, classification_method=method if method in METHODS else "",
            source_id=source,
        )  # fmt: skip
        self._count("media observations")


def _sha256(file) -> str:
    digest = hashlib.sha256()
    file.seek(0)
    while chunk := file.read(1 << 20):
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


# Packages uploaded from the browser, imported by a worker (tasks.import_camtrapdp).

UNEXPECTED = gettext_noop(
    "The import failed because of an unexpected error, and nothing was imported: try again "
    "later, and tell a site admin if it keeps failing."
)


def run_job(job: ImportJob) -> None:
    """Import a job's package for its team as its owner, noting on the job how far it has
    come, then what it created or why it was refused."""
    jobs = ImportJob.objects.filter(pk=job.pk)
    stages = {"validating": ImportJob.State.VALIDATING, "importing": ImportJob.State.IMPORTING}

    def progress(stage: str) -> None:
        jobs.update(state=stages[stage], progress_at=timezone.now())

    try:
        with camtrapdp_jobs.Heartbeat(jobs):
            result = import_package(Path(job.file.path), job.team, job.owner, progress)
    except InvalidPackage as refused:
        jobs.update(state=ImportJob.State.REFUSED, errors=refused.errors,
                    finished_at=timezone.now())  # fmt: skip
        return
    except Exception:
        logger.exception("Camtrap DP import %s failed", job.pk)
        jobs.update(state=ImportJob.State.FAILED, failure_reason=UNEXPECTED,
                    finished_at=timezone.now())  # fmt: skip
        raise
    jobs.update(state=ImportJob.State.DONE, counts=result.created,
                media_files=result.media_files, finished_at=timezone.now())  # fmt: skip
