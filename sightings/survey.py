"""Survey report: events and trap nights by station and species, as camtrapR's surveyReport()
counts them, with the relative abundance index they give.

Followed: camtrapR 3.0.3 (github.com/jniedballa/camtrapR at e31f2da9, 2026-04-20):
R/surveyReport.R, its manual page and tests/testthat/test-surveyReport.R.

Two tables, from the camera operation by station (effort.py) and the independent detections:
- events: camtrapR's events_by_station2, every station with detections by every species
  detected in the set (0 where none), with n_events (independent detections) and our two
  columns: n_trap_nights_active (the station's trap nights, camtrapR's: the sum of its
  camera operation) and rai_per_100_trap_nights (n_events per 100 trap nights; NA without
  trap nights).
- stations: camtrapR's survey_dates, every station of the operation: setup (first setup
  day) and retrieval (last retrieval day) of its cameras, image_first and image_last (the
  days of its first and last detection, NA without any), n_cameras (its deployments),
  n_calendar_days_total (days with a value, camOp >= 0), n_calendar_days_active (> 0),
  n_calendar_days_inactive (== 0) and n_trap_nights_active.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Count, Max, Min, QuerySet
from django.utils.translation import gettext_lazy as _

from sightings import independence
from sightings.effort import Camera, Operation, OperationError, number
from sightings.models import Sighting, Species

EVENT_COLUMNS = ["Station", "Species", "n_events", "n_trap_nights_active",
                 "rai_per_100_trap_nights"]  # fmt: skip
STATION_COLUMNS = [
    "Station", "setup", "retrieval", "image_first", "image_last", "n_cameras",
    "n_calendar_days_total", "n_calendar_days_active", "n_calendar_days_inactive",
    "n_trap_nights_active",
]  # fmt: skip


@dataclass(frozen=True)
class Events:
    """A station's independent detections of one species."""

    location_id: int
    species: str  # as record tables name it (Species.record_name)
    count: int
    first: dt.date
    last: dt.date


def events(sightings: QuerySet[Sighting], min_delta_minutes: float | None = None) -> list[Events]:
    """The set's independent detections counted by station and species: in the database for
    the site's rule (the sightings it marked), worked out anew with min_delta_minutes."""
    if min_delta_minutes is not None:
        return _counted(independence.detection_times(sightings, min_delta_minutes))
    names = {species.pk: species.record_name for species in Species.objects.all()}
    counted = (
        sightings.filter(is_independent=True)
        .exclude(species=None)
        .order_by()
        .values("location_id", "species_id")
        .annotate(count=Count("pk"), first=Min("local_date"), last=Max("local_date"))
        .values_list("location_id", "species_id", "count", "first", "last")
    )
    return [Events(loc, names[sp], n, first, last) for loc, sp, n, first, last in counted]


def _counted(found: list[tuple[int, str, dt.datetime]]) -> list[Events]:
    groups: dict[tuple[int, str], list[dt.date]] = {}
    for location, species, time in found:
        groups.setdefault((location, species), []).append(time.date())
    return [
        Events(location, species, len(days), min(days), max(days))
        for (location, species), days in groups.items()
    ]


def trap_nights(values: list[float | None]) -> float:
    """camtrapR's n_trap_nights_active: the station's camera operation summed."""
    return math.fsum(value for value in values if value is not None)


def rai(count: int, nights: float) -> float | None:
    """The relative abundance index: independent detections per 100 trap nights (None
    without trap nights, camtrapR's NA)."""
    return count / nights * 100 if nights else None


def event_rows(operation: Operation, found: list[Events]) -> Iterator[list[str]]:
    """The events table, with its header."""
    stations = {row.location_id: row for row in operation.rows}
    if {item.location_id for item in found} - set(stations):
        # camtrapR: "Not all values of stationCol in recordTable are matched by values of
        # stationCol in CTtable".
        raise OperationError(_("Some detections are at stations without camera operation."))
    counts = {(item.location_id, item.species): item.count for item in found}
    recorded = sorted({item.location_id for item in found}, key=lambda pk: stations[pk].station)
    yield EVENT_COLUMNS
    for location in recorded:
        nights = trap_nights(stations[location].values)
        for species in sorted({item.species for item in found}):
            count = counts.get((location, species), 0)
            yield [
                stations[location].station, species, str(count), number(nights),
                number(rai(count, nights)),
            ]  # fmt: skip


def station_rows(
    operation: Operation, cameras: list[Camera], found: list[Events]
) -> Iterator[list[str]]:
    """The stations table, with its header."""
    own: dict[int, list[Camera]] = {}
    for camera in cameras:
        own.setdefault(camera.location_id, []).append(camera)
    detected: dict[int, list[Events]] = {}
    for item in found:
        detected.setdefault(item.location_id, []).append(item)
    yield STATION_COLUMNS
    for row in operation.rows:
        known = [value for value in row.values if value is not None]
        yield [
            row.station,
            *_period(own[row.location_id]),
            *_detected(detected.get(row.location_id, [])),
            str(len(own[row.location_id])),
            str(len(known)),
            str(sum(1 for value in known if value > 0)),
            str(sum(1 for value in known if value == 0)),
            number(trap_nights(row.values)),
        ]


def _period(cameras: list[Camera]) -> list[str]:
    setup = min(camera.setup.date() for camera in cameras)
    return [setup.isoformat(), max(camera.retrieval.date() for camera in cameras).isoformat()]


def _detected(items: list[Events]) -> list[str]:
    if not items:
        return ["NA", "NA"]
    return [min(item.first for item in items).isoformat(), max(i.last for i in items).isoformat()]
