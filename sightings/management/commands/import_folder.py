from __future__ import annotations

import csv
import datetime as dt
import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.core.management.base import BaseCommand, CommandError

from sightings import access, events, exif, folders, ingest
from sightings.models import (
    BatchFolder,
    Deployment,
    Location,
    Media,
    Membership,
    SkippedFile,
    Species,
    Team,
    UploadBatch,
)


@dataclass
class Station:
    """One deployment's share of the tree: its files and their folders below PATH."""

    name: str
    files: list[tuple[Path, str]] = field(default_factory=list)
    deployment: Deployment | None = None
    batch: UploadBatch | None = None
    imported: int = 0
    already: int = 0


class Command(BaseCommand):
    help = """Import a folder tree of camera-trap images through the upload pipeline.

    PATH/Station/Species/files (camtrapR's layout): each station folder becomes a location of
    TEAM with a deployment (camera clock in --timezone) spanning its images. With --deployment
    the whole tree goes to that deployment (PATH/Species/files). Species folder names are
    matched with the catalogue; --species-map answers the others. Safe to run again: files
    already in the exchange are skipped."""

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--team", required=True, help="the team the images belong to")
        where = parser.add_mutually_exclusive_group(required=True)
        where.add_argument("--deployment", type=int, help="import everything into this one")
        where.add_argument("--timezone", help="IANA zone of the camera clocks, e.g. Asia/Shanghai")
        parser.add_argument(
            "--species-map",
            type=Path,
            help="CSV of folder name, scientific name (or 'ignore'), answering folder names",
        )
        parser.add_argument(
            "--add-species",
            action="store_true",
            help="add scientific names from the species map that the catalogue lacks",
        )
        parser.add_argument("--user", help="recorded as the uploader (default: a team uploader)")
        parser.add_argument("--no-wait", action="store_true", help="do not wait for the workers")

    def handle(self, *args, **options) -> None:
        root = options["path"]
        if not root.is_dir():
            raise CommandError(f"{root} is not a folder")
        team = Team.objects.filter(name=options["team"]).first()
        if team is None:
            raise CommandError(f"No team named {options['team']!r}")
        user = self._uploader(team, options["user"])
        stations = self._stations(root, team, options)
        answers = self._answers(stations, options)
        for station in stations:
            self._import(station, team, user, answers, options)
        if not options["no_wait"]:
            self._wait([station.batch for station in stations])
        self._summary(stations)

    def _uploader(self, team: Team, username: str | None):
        users = get_user_model().objects
        if username:
            user = users.filter(username=username).first() or _fail(f"No user {username!r}")
            if not access.Viewer.of(user).may(access.Action.UPLOAD, team.pk):
                raise CommandError(f"{username} may not upload for {team} (not its uploader)")
            return user
        membership = team.memberships.filter(role=Membership.Role.UPLOADER).first()
        if membership is None:
            raise CommandError(f"{team} has no uploader; name one with --user")
        return membership.user

    def _stations(self, root: Path, team: Team, options: dict) -> list[Station]:
        files = sorted(path for path in root.rglob("*") if path.is_file())
        if options["deployment"]:
            deployment = Deployment.objects.filter(
                pk=options["deployment"], location__team=team
            ).first() or _fail(f"{team} has no deployment {options['deployment']}")
            station = Station(deployment.location.name, deployment=deployment)
            station.files = [(path, _folder(path, root)) for path in files]
            return [station]
        if not _is_zone(options["timezone"]):
            raise CommandError(f"{options['timezone']!r} is not an IANA time zone")
        stray = [path for path in files if path.parent == root]
        if stray:
            raise CommandError(f"{len(stray)} files lie outside station folders, e.g. {stray[0]}")
        stations: dict[str, Station] = {}
        for path in files:
            name = path.relative_to(root).parts[0]
            stations.setdefault(name, Station(name)).files.append((path, _folder(path, root)))
        return list(stations.values())

    def _answers(self, stations: list[Station], options: dict) -> dict[str, Species | None]:
        """What each species folder name means; refuses to start while any is unknown."""
        names = {
            folders.species_folder(folder, station.name)
            for station in stations
            for path, folder in station.files
            if _is_image(path)
        } - {""}
        mapped = _read_species_map(options["species_map"], options["add_species"])
        catalogue = Species.objects.all()
        answers, unknown = {}, []
        for name in sorted(names):
            if name.casefold() in mapped:
                answers[name] = mapped[name.casefold()]
            elif species := catalogue.find(name):
                answers[name] = species
            else:
                unknown.append(name)
        if unknown:
            raise CommandError(
                f"These folder names are no species the catalogue knows: {', '.join(unknown)}. "
                "Answer them with --species-map FILE, a CSV of folder name and scientific name "
                "(or 'ignore'), adding --add-species for species the catalogue lacks."
            )
        return answers

    def _import(self, station: Station, team: Team, user, answers: dict, options: dict) -> None:
        station.deployment = station.deployment or _deployment(station, team, options["timezone"])
        station.batch = UploadBatch.objects.create(deployment=station.deployment, uploaded_by=user)
        for name, species in answers.items():
            BatchFolder.objects.create(
                batch=station.batch, name=name, species=species, is_ignored=species is None
            )
        seen: set[str] = set()  # hashes met in this run: a second one is a true duplicate
        for number, (path, folder) in enumerate(station.files, 1):
            self._progress(f"{station.name}: importing {number}/{len(station.files)}")
            self._import_file(station, path, folder, seen)
        self.stderr.write("")
        folders.collect(station.batch)

    def _import_file(self, station: Station, path: Path, folder: str, seen: set[str]) -> None:
        # Typed here too, by content as ingest.add_file does, so that no video is copied.
        head = _head(path)
        reason = ingest.not_an_image_reason(head)
        if reason is not None:
            SkippedFile.objects.create(
                batch=station.batch, name=f"{folder}/{path.name}".lstrip("/"),
                reason=SkippedFile.Reason.NOT_AN_IMAGE, message=reason,
                detail=ingest.head_detail(head),
            )  # fmt: skip
            return
        file, sha256 = _copy(path)
        with file:
            # One that failed goes on to add_file, which queues it again.
            earlier = Media.objects.filter(sha256=sha256).exclude(state=Media.State.FAILED)
            if sha256 not in seen and earlier.exists():
                station.already += 1  # imported by an earlier run
                return
            seen.add(sha256)
            media = ingest.add_file(
                station.batch, file, name=path.name, folder=folder, sha256=sha256
            )
            station.imported += media is not None

    def _wait(self, batches: list[UploadBatch]) -> None:
        while True:
            progress = [batch.progress() for batch in batches]
            done = sum(p["states"]["processed"] + p["states"]["failed"] for p in progress)
            total = sum(p["total"] for p in progress)
            self._progress(f"processing: {done}/{total}")
            if all(p["done"] for p in progress):
                self.stderr.write("")
                return
            time.sleep(0.5)

    def _summary(self, stations: list[Station]) -> None:
        for station in stations:
            progress = station.batch.progress()
            self.stdout.write(
                f"{station.name}: {station.imported} imported, {station.already} already in the "
                f"exchange, {progress['duplicates']} duplicates, {progress['skipped']} skipped, "
                f"{progress['states']['failed']} failed (deployment {station.deployment.pk})"
            )
            failed = station.batch.media.filter(state=Media.State.FAILED)
            for media in failed.order_by("folder", "original_name"):
                reason = f"{media.failure_reason} ({media.failure_detail})".replace(" ()", "")
                self.stdout.write(f"  failed: {media.folder}/{media.original_name}: {reason}")
            for skipped in station.batch.skipped_files.exclude(reason=SkippedFile.Reason.DUPLICATE):
                label = "retried" if skipped.reason == SkippedFile.Reason.RETRIED else "skipped"
                reason = f"{skipped.message} ({skipped.detail})".replace(" ()", "")
                self.stdout.write(f"  {label}: {skipped.name}: {reason}")

    def _progress(self, text: str) -> None:
        self.stderr.write(f"\r{text}", ending="")
        self.stderr.flush()


def _fail(message: str):
    raise CommandError(message)


def _is_zone(name: str) -> bool:
    import zoneinfo

    return name in zoneinfo.available_timezones()


def _folder(path: Path, root: Path) -> str:
    return "/".join(path.relative_to(root).parts[:-1])


def _copy(path: Path) -> tuple[TemporaryUploadedFile, str]:
    """A temporary copy of the file, hashed on the way, as an upload is (ingest stores it)."""
    file = TemporaryUploadedFile(path.name, "application/octet-stream", 0, None)
    sha256 = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(ingest.CHUNK_SIZE):
            sha256.update(chunk)
            file.write(chunk)
    file.size = file.tell()
    file.seek(0)
    return file, sha256.hexdigest()


def _read_species_map(path: Path | None, add_species: bool) -> dict[str, Species | None]:
    """Folder name (case-folded) -> species, or None for folders to ignore."""
    if path is None:
        return {}
    catalogue = Species.objects.all()
    answers: dict[str, Species | None] = {}
    with path.open(encoding="utf-8-sig", newline="") as file:
        for row in csv.reader(file):
            if len(row) < 2 or not row[0].strip() or row[0].strip().startswith("#"):
                continue
            folder, name = row[0].strip(), row[1].strip()
            if name.casefold() in ("", "ignore"):
                answers[folder.casefold()] = None
            elif species := catalogue.find(name):
                answers[folder.casefold()] = species
            elif add_species:
                answers[folder.casefold()] = Species.objects.create(
                    scientific_name=name, name_en=name, name_zh=name, name_ru=name
                )
            else:
                raise CommandError(
                    f"{name!r} (for folder {folder!r}) is not in the catalogue; "
                    "add --add-species to add it"
                )
    return answers


def _deployment(station: Station, team: Team, time_zone: str) -> Deployment:
    """The station's location and deployment, created on the first import, spanning the
    capture times of its images (read from their headers)."""
    location, _ = Location.objects.get_or_create(
        team=team, name=station.name, defaults={"country": team.country}
    )
    deployment = location.deployments.filter(time_zone=time_zone).order_by(
        "pk"
    ).first() or Deployment(location=location, time_zone=time_zone)
    times = [t for t in (_capture_time(path, deployment) for path, _ in station.files) if t]
    times += [deployment.start_at, deployment.end_at] if deployment.pk else []
    times = [t for t in times if t] or [dt.datetime.now(dt.UTC)]
    before = {"start_at": deployment.start_at, "end_at": deployment.end_at}
    deployment.start_at, deployment.end_at = min(times), max(times)
    created = deployment.pk is None
    deployment.save()
    if not created:  # a wider period: its images' flags are worked out again
        events.deployment_changed(
            deployment, {k: v for k, v in before.items() if getattr(deployment, k) != v}
        )
    return deployment


def _head(path: Path) -> bytes:
    with path.open("rb") as file:
        return ingest.read_head(file)


def _is_image(path: Path) -> bool:
    return bool(ingest.sniff_format(_head(path)))


def _capture_time(path: Path, deployment: Deployment) -> dt.datetime | None:
    if not _is_image(path):
        return None
    try:
        with path.open("rb") as file:  # read_metadata reads the header only
            metadata = exif.read_metadata(file, path.name, max_pixels=settings.MAX_IMAGE_PIXELS)
    except exif.MetadataError:
        return None
    if metadata.camera_time is None:
        return None
    return deployment.to_utc(metadata.camera_time, metadata.camera_offset)
