"""Independent detections, by camtrapR's rule, and the records they are made of.

A record is one image of a named species at a station (camtrapR's unit). camtrapR's
recordTable (assessTemporalIndependence, removeDuplicatesOfRecords):
- records of the same station, species and second are one record (the first file kept);
- per station and species in time order, the first record is independent; each later one
  is independent when at least min_delta minutes passed since the previous record
  (compared_to="last", camtrapR's "lastRecord") or since the previous independent record
  ("independent", "lastIndependentRecord");
- an independent record counts the images up to the next independent one (n_images), and
  its delta is rounded as camtrapR does: seconds to 0 digits, then minutes, hours and days
  each to 1 digit from the rounded value before.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import groupby

from django.conf import settings
from django.db.models import Q, QuerySet

from sightings.models import Location, Media, PendingIndependence, Sighting, Species

COMPARED_TO = ("last", "independent")


@dataclass
class Record:
    station: str
    species: str
    taken_at: dt.datetime  # the UTC instant, whole seconds (as camtrapR reads DateTimeOriginal)
    local_time: dt.datetime  # the same instant in the deployment's time zone, naive
    directory: str
    file_name: str
    sighting_id: int
    event_id: int
    media_id: int
    location_id: int
    deployment_id: int


@dataclass
class Detection:
    record: Record
    delta_seconds: int
    image_count: int

    @property
    def delta_minutes(self) -> float:
        return round(self.delta_seconds / 60, 1)

    @property
    def delta_hours(self) -> float:
        return round(self.delta_minutes / 60, 1)

    @property
    def delta_days(self) -> float:
        return round(self.delta_hours / 24, 1)


def independent_detections(
    records: Iterable[Record], min_delta_minutes: float, compared_to: str
) -> list[Detection]:
    """camtrapR's independent records, sorted by station, species and time."""
    ordered = sorted(records, key=lambda r: (r.station, r.species, r.taken_at, r.file_name))
    detections: list[Detection] = []
    for _, series in groupby(ordered, key=lambda r: (r.station, r.species)):
        detections += _series_detections(
            _without_same_second(series), min_delta_minutes, compared_to
        )
    return detections


def _without_same_second(series: Iterable[Record]) -> list[Record]:
    kept: list[Record] = []
    for record in series:
        if not kept or record.taken_at != kept[-1].taken_at:
            kept.append(record)
    return kept


def _series_detections(
    series: list[Record], min_delta_minutes: float, compared_to: str
) -> list[Detection]:
    detections = [Detection(series[0], 0, 1)]
    for previous, record in zip(series, series[1:], strict=False):
        reference = previous if compared_to == "last" else detections[-1].record
        delta = int((record.taken_at - reference.taken_at).total_seconds())
        if delta >= min_delta_minutes * 60:
            detections.append(Detection(record, delta, 0))
        detections[-1].image_count += 1
    return detections


def records(sightings: QuerySet[Sighting]) -> Iterator[Record]:
    """The image records of named sightings, blanks left out, a location at a time.

    A sighting named from card folders covers only the images in its species' folder, as
    camtrapR's Station/Species layout does; any other sighting covers its whole event.
    """
    sightings = sightings.exclude(species=None).exclude(species__kind=Species.Kind.BLANK)
    locations = sightings.values_list("event__deployment__location", flat=True).distinct()
    for location in Location.objects.filter(pk__in=locations).order_by("name", "pk"):
        yield from _location_records(
            location, sightings.filter(event__deployment__location=location)
        )


def _location_records(location: Location, sightings: QuerySet[Sighting]) -> Iterator[Record]:
    sightings = list(sightings.select_related("species", "event__deployment"))
    images = Media.objects.filter(event__in={s.event_id for s in sightings}).exclude(
        captured_at=None
    )
    by_event: dict[int, list[Media]] = {}
    for image in images.only(
        "event_id", "captured_at", "folder", "original_name", "folder_species_id"
    ):
        by_event.setdefault(image.event_id, []).append(image)
    for sighting in sightings:
        zone = zoneinfo.ZoneInfo(sighting.event.deployment.time_zone or "UTC")
        for image in by_event.get(sighting.event_id, []):
            if (
                sighting.classification_method == "folder"
                and image.folder_species_id != sighting.species_id
            ):
                continue
            taken_at = image.captured_at.replace(microsecond=0)
            yield Record(
                station=location.name, species=sighting.species.record_name, taken_at=taken_at,
                local_time=taken_at.astimezone(zone).replace(tzinfo=None),
                directory=image.folder, file_name=image.original_name, sighting_id=sighting.pk,
                event_id=sighting.event_id, media_id=image.pk, location_id=location.pk,
                deployment_id=sighting.event.deployment_id,
            )  # fmt: skip


def mark_stale(location_id: int, species_ids: Iterable[int | None]) -> None:
    """Have the independence of these species at this location worked out again, once."""
    from sightings import tasks

    for species_id in set(species_ids) - {None}:
        request, created = PendingIndependence.objects.get_or_create(
            location_id=location_id, species_id=species_id
        )
        if created or request.sent_at is None:
            pending = PendingIndependence.objects.filter(
                location_id=location_id, species_id=species_id
            )
            tasks.send_on_commit(
                tasks.update_independence, location_id, species_id, pending=pending
            )


def update_series(location_id: int, species_id: int) -> int:
    """Set is_independent on one species' sightings at one location; return how many are."""
    # Taken off the list first: a change made while this runs puts it back, and runs again.
    PendingIndependence.objects.filter(location_id=location_id, species_id=species_id).delete()
    series = Sighting.objects.filter(
        event__deployment__location_id=location_id, species_id=species_id
    )
    detections = independent_detections(
        records(series), settings.INDEPENDENCE_MIN_DELTA_MINUTES, settings.INDEPENDENCE_COMPARED_TO
    )
    independent = {detection.record.sighting_id for detection in detections}
    series.filter(~Q(pk__in=independent), is_independent=True).update(is_independent=False)
    series.filter(pk__in=independent, is_independent=False).update(is_independent=True)
    return len(independent)


def detection_times(
    sightings: QuerySet[Sighting], min_delta_minutes: float | None = None
) -> list[tuple[int, str, dt.datetime]]:
    """(location, species as record tables name it, camera-clock time) of each independent
    detection in the set: the sightings the site's rule marked independent, or, with
    min_delta_minutes, the records' detections worked out anew at that many minutes."""
    if min_delta_minutes is not None:
        found = independent_detections(
            records(sightings), min_delta_minutes, settings.INDEPENDENCE_COMPARED_TO
        )
        return [(d.record.location_id, d.record.species, d.record.local_time) for d in found]
    names = {species.pk: species.record_name for species in Species.objects.all()}
    marked = (
        sightings.filter(is_independent=True)
        .order_by()
        .values_list("location_id", "species_id", "local_date", "local_minute", "observed_at")
    )
    return [
        (location, names[species], _wall_time(day, minute, observed_at))
        for location, species, day, minute, observed_at in marked.iterator(chunk_size=10_000)
    ]


def _wall_time(day: dt.date, minute: int, observed_at: dt.datetime) -> dt.datetime:
    # The local date and minute are stored (Event.placement); the second is the UTC
    # instant's, as time zones are whole minutes apart.
    return dt.datetime.combine(day, dt.time(minute // 60, minute % 60, observed_at.second))
