"""Camtrap DP 1.0.2 packages of the sightings a viewer may see.

A package is a zip of datapackage.json, deployments.csv, media.csv and observations.csv.
What goes in follows the access layer only: the sightings come from access.sightings()
(narrowed by the browser's filters), the images from access.media(), and every coordinate
from access.places(), so a protected station reaches other teams on the grid, with
coordinateUncertainty and the package's coordinatePrecision saying so.

The tables are written a row at a time from .iterator() into files in a temporary folder,
validated there (camtrapdp_validation.py: the profile with jsonschema, the tables with
frictionless, the keys on disk), and only then zipped: an invalid package is never made.

Choices the standard leaves to us:
- observations: one event-based observation per sighting (observationID = our sighting
  id); an imported sighting gives its package's classificationMethod and classifiedBy
  back. Media-based ones: an imported image's own (MediaObservation), "media-<media id>"
  for the first and "media-<media id>-<n>" for the n-th; for any other image, one
  ("media-<media id>") if its card folder named the species of a sighting of its event:
  the person who sorted the card named that image.
- media.filePath is the absolute URL of the image on this site (SITE_URL + the media_file
  view). That view checks access again for whoever follows the link; for another team's
  protected station it serves the copy rebuilt without metadata (shareable.py), so the
  same URL never gives the original to someone who may not have it. filePublic is false
  (a login is needed); fileMediatype is what that viewer is served. An image imported by
  its URL alone (Media.source_url) has that URL: we hold no file of it. At another team's
  protected station such an image is left out, with its media-based observations: its URL
  is the original's, and there is no cleaned copy to serve instead.
- sightings at stations without coordinates are left out (latitude and longitude are
  required); the package's description says how many.
- no licenses: the exchange records none, and the profile wants both a data and a media
  licence when there are any.
- cells are written as they are, unlike the browser's CSV (exports.py), which defuses text a
  spreadsheet would run as a formula: a package is data for R and Python tools, and an
  altered value would not survive the round trip.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import logging
import math
import shutil
import tempfile
import uuid
import zipfile
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from sightings import access, camtrapdp_jobs, filters
from sightings.camtrapdp_validation import TABLES, schema, validate
from sightings.models import (
    FORMAT_TYPES,
    Deployment,
    ExportJob,
    Media,
    MediaObservation,
    Sighting,
    Species,
    Team,
)

VERSION = "1.0.2"
BASE_URL = f"https://raw.githubusercontent.com/tdwg/camtrap-dp/{VERSION}"
PROFILE_URL = f"{BASE_URL}/camtrap-dp-profile.json"
CHUNK = 5_000
METRES_PER_DEGREE = 111_320  # of latitude, and of longitude at the equator (the most)

CAPTURE_METHODS = {"M": "activityDetection", "T": "timeLapse"}  # Reconyx trigger codes
CLASSIFICATION_METHODS = {
    Sighting.Method.HUMAN: "human",
    Sighting.Method.FOLDER: "human",  # a person sorted the card into species folders
    Sighting.Method.MACHINE: "machine",
}
TAXON_RANKS = {"kingdom", "phylum", "class", "order", "family", "genus", "species", "subspecies"}


class BadFilters(Exception):
    def __init__(self, errors: dict) -> None:
        super().__init__(json.dumps(errors))
        self.errors = errors


class NothingToExport(Exception):
    pass


def filtered(viewer: access.Viewer, query: str) -> QuerySet[Sighting]:
    """The sightings this viewer may see, narrowed by a browser query string, as the browser
    does it (for the worker and the command, which have no request of the viewer's)."""
    filterset = filters.for_viewer(viewer, query)
    if not filterset.is_valid():
        raise BadFilters(filterset.errors)
    return filterset.qs


@dataclass
class Summary:
    """What the tables held, for datapackage.json."""

    observations: int = 0
    media_observations: int = 0
    media: int = 0
    left_out: int = 0
    deployments: set[int] = field(default_factory=set)
    species: set[int] = field(default_factory=set)
    individuals: bool = False
    capture_methods: set[str] = field(default_factory=set)
    # Per deployment, the end of its last exported event: the end of one still running.
    last_event_end: dict[int, dt.datetime] = field(default_factory=dict)
    # Filled in while writing deployments.csv.
    teams: set[int] = field(default_factory=set)
    generalised: bool = False
    starts: list[dt.date] = field(default_factory=list)
    ends: list[dt.date] = field(default_factory=list)
    latitudes: list[float] = field(default_factory=list)
    longitudes: list[float] = field(default_factory=list)

    def note(self, species: int | None, individual: str | None) -> None:
        """Count an observation's species and individual in the taxonomic list and project."""
        if species is not None:
            self.species.add(species)
        self.individuals |= individual is not None


def build(
    viewer: access.Viewer,
    sightings: QuerySet[Sighting],
    out: Path,
    progress: Callable[[str, int], None] | None = None,
) -> Summary:
    """Write the package of these sightings (all visible to the viewer) to the zip out.

    progress(stage, sightings written) is called every CHUNK sightings, and with
    "validating" once the tables are written. Raises NothingToExport if no sighting with
    coordinates is left, InvalidPackage if the package does not validate (out is then not
    written).
    """
    progress = progress or (lambda stage, done: None)
    out = Path(out)
    folder = Path(tempfile.mkdtemp(prefix="camtrapdp-", dir=out.parent))
    partial = out.with_name(out.name + ".part")
    try:
        summary = _write_tables(viewer, sightings, folder, progress)
        descriptor = _descriptor(summary)
        (folder / "datapackage.json").write_text(
            json.dumps(descriptor, ensure_ascii=False, indent=2), encoding="utf-8"
        )
        progress("validating", summary.observations)
        validate(folder)
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as package:
            for name in ("datapackage.json", *(f"{table}.csv" for table in TABLES)):
                package.write(folder / name, name)  # copied in pieces, not read whole
        partial.replace(out)
        return summary
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        partial.unlink(missing_ok=True)  # a zip cut short by an error


def _write_tables(
    viewer: access.Viewer, sightings: QuerySet[Sighting], folder: Path, progress: Callable
) -> Summary:
    summary = Summary()
    placed = Q(location__latitude__isnull=False, location__longitude__isnull=False)
    summary.left_out = sightings.exclude(placed).order_by().count()
    sightings = sightings.filter(placed)
    zones = _zones()
    with _table(folder, "observations") as observations:
        _write_observations(sightings, zones, observations, summary, progress)
        if not summary.observations:
            raise NothingToExport
        with _table(folder, "media") as media:
            _write_media(viewer, sightings, zones, media, observations, summary)
    with _table(folder, "deployments") as deployments:
        _write_deployments(viewer, zones, deployments, summary)
    return summary


class _table:
    """A table's CSV writer with its schema's columns, rows given as dicts."""

    def __init__(self, folder: Path, name: str) -> None:
        self.file = open(folder / f"{name}.csv", "w", newline="", encoding="utf-8")  # noqa: SIM115
        self.columns = [column["name"] for column in schema(name)["fields"]]
        self.writer = csv.writer(self.file)
        self.writer.writerow(self.columns)

    def write(self, row: dict) -> None:
        # csv writes None as an empty field, which the schemas read as missing.
        self.writer.writerow([row.get(column) for column in self.columns])

    def __enter__(self) -> _table:
        return self

    def __exit__(self, *exc) -> None:
        self.file.close()


def _write_observations(
    sightings: QuerySet[Sighting], zones: dict, table: _table, summary: Summary, progress
) -> None:
    taxa = _Taxa()
    people = _people()
    rows = sightings.order_by("pk").values_list(
        "pk", "event_id", "event__deployment_id", "event__start_at", "event__end_at",
        "species_id", "count", "sex", "life_stage", "behaviour", "individual__code",
        "comment", "classified_by_id", "classified_by_name", "classified_at",
        "classification_method", "source_classification_method",
    )  # fmt: skip
    for row in rows.iterator(CHUNK):
        (pk, event, deployment, start, end, species, count, sex, life_stage, behaviour,
         individual, comment, classified_by, classified_by_name, classified_at, method,
         source_method) = row  # fmt: skip
        zone = zones[deployment]
        table.write({
            "observationID": str(pk), "deploymentID": str(deployment), "eventID": str(event),
            "eventStart": _stamp(start, zone), "eventEnd": _stamp(end, zone),
            "observationLevel": "event",
            **taxa.columns(species, count, sex, life_stage, behaviour, individual),
            # An imported sighting, as its package said (camtrapdp_import.py).
            "classificationMethod": CLASSIFICATION_METHODS.get(method, source_method or None),
            "classifiedBy": people.get(classified_by) or classified_by_name or None,
            "classificationTimestamp": _stamp(classified_at, zone),
            "observationComments": comment or None,
        })  # fmt: skip
        summary.observations += 1
        summary.deployments.add(deployment)
        summary.note(species, individual)
        if end > summary.last_event_end.get(deployment, start):
            summary.last_event_end[deployment] = end
        if summary.observations % CHUNK == 0:
            progress("building", summary.observations)
    progress("building", summary.observations)


class _Taxa:
    """The species columns of an observation, from the catalogue read once."""

    def __init__(self) -> None:
        self.kinds = dict(Species.objects.values_list("pk", "kind"))
        self.scientific = dict(Species.objects.values_list("pk", "scientific_name"))

    def columns(self, species, count, sex, life_stage, behaviour, individual) -> dict:
        kind = self.kinds.get(species, "unclassified")  # not named yet
        return {
            "observationType": kind,
            "scientificName": self.scientific[species] if kind == Species.Kind.ANIMAL else None,
            # Camtrap DP counts animals (at least 1); a blank's count means nothing.
            "count": count if count and kind != Species.Kind.BLANK else None,
            "lifeStage": life_stage or None,
            "sex": sex if sex in ("female", "male") else None,
            "behavior": behaviour or None,
            "individualID": individual,
        }


def _exported_media(
    viewer: access.Viewer, sightings: QuerySet[Sighting], generalised: set[int]
) -> QuerySet[Media]:
    """The images of the exported sightings' events that the viewer may see, but for those
    known by their URL alone at another team's protected station: that URL is the
    original's, which we cannot serve cleaned."""
    return (
        access.media(viewer)
        .filter(event__in=sightings.values("event"), captured_at__isnull=False)
        .exclude(~Q(source_url=""), deployment__location__in=generalised)
    )


def _write_media(
    viewer: access.Viewer, sightings: QuerySet[Sighting], zones: dict, table: _table,
    observations: _table, summary: Summary,
) -> None:  # fmt: skip
    """The exported images, and their media-based observations: an imported image's own
    (MediaObservation), else one for an image whose folder named a sighting's species."""
    taxa = _Taxa()
    named = sightings.filter(event=OuterRef("event"), species=OuterRef("folder_species"))
    has_own = MediaObservation.objects.filter(media=OuterRef("pk"))
    generalised = {pk for pk, place in access.places(viewer).items() if place.generalised}
    media = _exported_media(viewer, sightings, generalised)
    rows = (
        media.annotate(named=Exists(named), has_own=Exists(has_own))
        .order_by("pk")
        .values_list(
            "pk", "deployment_id", "event_id", "captured_at", "format", "original_name",
            "trigger_mode", "folder_species_id", "named", "has_own", "deployment__location_id",
            "source_url",
        )
    )  # fmt: skip
    url = settings.SITE_URL + reverse("sightings:media_file", args=[1, "original"])
    url = url.replace("/1/", "/{}/")
    for (pk, deployment, event, captured, format, name, trigger, folder_species, is_named,
         has_own, location, source_url) in rows.iterator(CHUNK):  # fmt: skip
        zone = zones[deployment]
        method = CAPTURE_METHODS.get(trigger)
        table.write({
            "mediaID": str(pk), "deploymentID": str(deployment), "captureMethod": method,
            "timestamp": _stamp(captured, zone),
            # An image imported by its URL stays there: we have no file to link.
            "filePath": source_url or url.format(pk),
            "filePublic": "false", "fileName": name,
            "fileMediatype": _served_type(format, location in generalised),
        })  # fmt: skip
        summary.media += 1
        summary.deployments.add(deployment)
        if method:
            summary.capture_methods.add(method)
        if is_named and not has_own:
            observations.write({
                "observationID": f"media-{pk}", "deploymentID": str(deployment),
                "mediaID": str(pk), "eventID": str(event), "eventStart": _stamp(captured, zone),
                "eventEnd": _stamp(captured, zone), "observationLevel": "media",
                **taxa.columns(folder_species, None, "", "", "", None),
                "classificationMethod": "human",
            })  # fmt: skip
            summary.media_observations += 1
    _write_media_observations(media, zones, taxa, observations, summary)


def _write_media_observations(
    media: QuerySet[Media], zones: dict, taxa: _Taxa, table: _table, summary: Summary
) -> None:
    """An imported image's media-based observations: "media-<media id>" for its first, as
    for an image named by its folder, then "media-<media id>-2" and on."""
    rows = (
        MediaObservation.objects.filter(media__in=media)
        .order_by("media_id", "pk")
        .values_list(
            "media_id", "media__deployment_id", "media__event_id", "media__captured_at",
            "species_id", "count", "sex", "life_stage", "behaviour", "individual__code",
            "classification_method", "classified_by_name", "classified_at", "comment",
        )
    )  # fmt: skip
    previous, number = None, 0
    for (media_id, deployment, event, captured, species, count, sex, life_stage, behaviour,
         individual, method, classified_by, classified_at,
         comment) in rows.iterator(CHUNK):  # fmt: skip
        number = number + 1 if media_id == previous else 1
        previous = media_id
        zone = zones[deployment]
        table.write({
            "observationID": f"media-{media_id}" + (f"-{number}" if number > 1 else ""),
            "deploymentID": str(deployment), "mediaID": str(media_id), "eventID": str(event),
            "eventStart": _stamp(captured, zone), "eventEnd": _stamp(captured, zone),
            "observationLevel": "media",
            **taxa.columns(species, count, sex, life_stage, behaviour, individual),
            "classificationMethod": method or None, "classifiedBy": classified_by or None,
            "classificationTimestamp": _stamp(classified_at, zone),
            "observationComments": comment or None,
        })  # fmt: skip
        summary.media_observations += 1
        summary.note(species, individual)


def _served_type(format: str, generalised: bool) -> str:
    """What the media_file view serves this viewer: the original's type, or for a protected
    station of another team the copy's, which stays a JPEG or becomes a PNG (shareable.py)."""
    if generalised and format != Media.Format.JPEG:
        return "image/png"
    # Every image in an event was typed by its content on upload; one without a format is
    # an old row whose file was missing when they were typed: cameras write JPEGs.
    return FORMAT_TYPES.get(format, FORMAT_TYPES[Media.Format.JPEG])[0]


def _write_deployments(viewer: access.Viewer, zones: dict, table: _table, summary: Summary) -> None:
    places = access.places(viewer)
    uncertainty = math.ceil(settings.LOCATION_GRID_DEGREES / 2 * math.sqrt(2) * METRES_PER_DEGREE)
    rows = Deployment.objects.order_by("pk").values_list(
        "pk",
        "location_id",
        "location__name",
        "location__habitat",
        "location__team_id",
        "start_at",
        "end_at",
        "time_zone",
        "camera_make",
        "camera_model",
        "camera_serial",
    )
    for (pk, location, name, habitat, team, start, end, zone_name, make, model,
         serial) in rows.iterator(CHUNK):  # fmt: skip
        if pk not in summary.deployments:
            continue
        zone, place = zones[pk], places[location]
        end = end or max(summary.last_event_end.get(pk, start), start)
        table.write({
            "deploymentID": str(pk), "locationID": str(location), "locationName": name,
            "latitude": place.latitude, "longitude": place.longitude,
            # The whole cell the station may be in: from its centre to a corner.
            "coordinateUncertainty": uncertainty if place.generalised else None,
            "deploymentStart": _stamp(start, zone), "deploymentEnd": _stamp(end, zone),
            "cameraID": serial or None,
            "cameraModel": "-".join(part for part in (make, model) if part) or None,
            # Without the camera's zone, times come from the files' offsets, if any.
            "timestampIssues": "false" if zone_name else "true",
            # Habitat notes may say where a protected station is.
            "habitat": (habitat or None) if not place.generalised else None,
        })  # fmt: skip
        summary.teams.add(team)
        summary.generalised |= place.generalised
        summary.starts.append(start.astimezone(zone).date())
        summary.ends.append(end.astimezone(zone).date())
        summary.latitudes.append(place.latitude)
        summary.longitudes.append(place.longitude)


def _descriptor(summary: Summary) -> dict:
    resources = [
        {
            "name": table,
            "path": f"{table}.csv",
            "profile": "tabular-data-resource",
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "schema": f"{BASE_URL}/{table}-table-schema.json",
        }  # fmt: skip
        for table in TABLES
    ]
    contributors = [
        {"title": team, "role": "rightsHolder", "organization": team}
        for team in Team.objects.filter(pk__in=summary.teams).values_list("name", flat=True)
    ]
    contributors.append(
        {"title": "NEASPEC camera-trap exchange", "path": settings.SITE_URL, "role": "publisher"}
    )
    description = (
        f"{summary.observations} observations of camera-trap events and "
        f"{summary.media_observations} of single images, from {len(summary.deployments)} "
        f"deployments of {len(summary.teams)} teams, exported from the NEASPEC camera-trap "
        "exchange as the exporting user may see them."
    )
    if summary.generalised:
        description += (
            " Stations where a sensitive species was recorded are given at the centre of a "
            f"{settings.LOCATION_GRID_DEGREES} degree grid cell (see coordinateUncertainty)."
        )
    if summary.left_out:
        description += (
            f" {summary.left_out} sightings at stations without coordinates are left out."
        )
    descriptor = {
        "profile": PROFILE_URL,
        "resources": resources,
        "name": "neaspec-camera-trap-exchange",
        "id": str(uuid.uuid4()),
        "created": _stamp(timezone.now(), dt.UTC),
        "title": "NEASPEC camera-trap exchange: Amur tiger, Amur leopard, snow leopard and "
        "their prey in North-East Asia",
        "description": description,
        "contributors": contributors,
        "project": {
            "title": "NEASPEC transboundary camera-trap monitoring of big cats",
            "acronym": "NEASPEC",
            # Stations are set on the big cats' trails to record them.
            "samplingDesign": "targeted",
            "captureMethod": sorted(summary.capture_methods) or ["activityDetection"],
            "individualAnimals": summary.individuals,
            "observationLevel": ["event", "media"] if summary.media_observations else ["event"],
        },
        "spatial": _bounding_box(summary),
        "temporal": {
            "start": min(summary.starts).isoformat(),
            "end": max(summary.ends).isoformat(),
        },
        "taxonomic": _taxa(summary.species),
    }
    if summary.generalised:
        descriptor["coordinatePrecision"] = settings.LOCATION_GRID_DEGREES
    return descriptor


def _bounding_box(summary: Summary) -> dict:
    west, east = min(summary.longitudes), max(summary.longitudes)
    south, north = min(summary.latitudes), max(summary.latitudes)
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def _taxa(species_ids: set[int]) -> list[dict]:
    taxa = []
    for species in Species.objects.filter(pk__in=species_ids, kind=Species.Kind.ANIMAL):
        taxon = {"scientificName": species.scientific_name}
        if species.rank in TAXON_RANKS:
            taxon["taxonRank"] = species.rank
        names = {"eng": species.name_en, "zho": species.name_zh, "rus": species.name_ru}
        taxon["vernacularNames"] = {code: name for code, name in names.items() if name}
        taxa.append(taxon)
    return sorted(taxa, key=lambda taxon: taxon["scientificName"])


def _stamp(instant: dt.datetime | None, zone: dt.tzinfo) -> str | None:
    """ISO 8601 in the deployment's zone, with its offset and whole seconds, as the
    schemas want it (2021-04-11T20:43:09+10:00)."""
    if instant is None:
        return None
    return instant.astimezone(zone).isoformat(timespec="seconds")


def _zones() -> dict[int, dt.tzinfo]:
    rows = Deployment.objects.values_list("pk", "time_zone").iterator(CHUNK)
    return {pk: zoneinfo.ZoneInfo(zone) if zone else dt.UTC for pk, zone in rows}


def _people() -> dict[int, str]:
    """Who named sightings, as the history on a sighting's page names them."""
    rows = get_user_model().objects.values_list("pk", "first_name", "last_name", "username")
    return {pk: f"{first} {last}".strip() or name for pk, first, last, name in rows}


# Packages built by a worker (tasks.build_export), for sets too large to wait for.

logger = logging.getLogger(__name__)


def build_job(job: ExportJob) -> None:
    """Build a job's package into MEDIA_ROOT/exports/<job id>.zip, with the owner's rights
    as they are now, noting progress on the job as it goes."""
    viewer = access.Viewer.of(job.owner)
    name = f"exports/{job.pk}.zip"
    out = Path(settings.MEDIA_ROOT) / name
    out.parent.mkdir(parents=True, exist_ok=True)
    jobs = ExportJob.objects.filter(pk=job.pk)
    stages = {"building": ExportJob.State.BUILDING, "validating": ExportJob.State.VALIDATING}

    def progress(stage: str, done: int) -> None:
        jobs.update(state=stages[stage], done=done, progress_at=timezone.now())

    try:
        with camtrapdp_jobs.Heartbeat(jobs):
            build(viewer, filtered(viewer, job.filters), out, progress)
    except Exception:
        logger.exception("Camtrap DP export %s failed", job.pk)
        jobs.update(state=ExportJob.State.FAILED, finished_at=timezone.now())
        raise
    jobs.update(state=ExportJob.State.READY, file=name, finished_at=timezone.now())
