"""Tables for analysts, written as CSV a row at a time: the filtered sightings, and
camtrapR's record table."""

from __future__ import annotations

import csv
import datetime as dt
import re
import zoneinfo
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import groupby
from operator import itemgetter

from django.db import connections
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import translation

from sightings.access import Place
from sightings.independence import Detection
from sightings.models import Deployment, Location, Species

RECORD_TABLE_COLUMNS = [
    "Station", "Species", "DateTimeOriginal", "Date", "Time", "delta.time.secs",
    "delta.time.mins", "delta.time.hours", "delta.time.days", "Directory", "FileName",
    "n_images", "location_id", "deployment_id", "event_id", "sighting_id", "media_id",
]  # fmt: skip


class Echo:
    """A file that hands back what is written, for streaming a CSV to the client."""

    def write(self, value: str) -> str:
        return value


def record_table_rows(detections: Iterable[Detection]) -> Iterator[list]:
    """camtrapR recordTable columns (and our ids) for each independent detection."""
    yield RECORD_TABLE_COLUMNS
    for detection in detections:
        record = detection.record
        yield [
            record.station, record.species, f"{record.local_time:%Y-%m-%d %H:%M:%S}",
            f"{record.local_time:%Y-%m-%d}", f"{record.local_time:%H:%M:%S}",
            detection.delta_seconds, _number(detection.delta_minutes),
            _number(detection.delta_hours), _number(detection.delta_days), record.directory,
            record.file_name, detection.image_count, record.location_id, record.deployment_id,
            record.event_id, record.sighting_id, record.media_id,
        ]  # fmt: skip


def csv_lines(rows: Iterable[list], rows_per_piece: int = 1000, bom: bool = False) -> Iterator[str]:
    """CSV text in pieces of many rows, every cell safe to open in a spreadsheet: a
    response written line by line costs more in handing lines over than in making them.

    With bom, a UTF-8 byte-order mark first: without it Excel reads the file in the
    system's code page, and Chinese or Russian names come out garbled.
    """
    if bom:
        yield BOM
    writer = csv.writer(Echo())
    piece = []
    for row in rows:
        # The cheap test inline: a function call per cell costs a million-row export seconds.
        cells = [
            _inert(cell) if cell.__class__ is str and cell[:1] in FORMULA_STARTS else cell
            for cell in row
        ]
        piece.append(writer.writerow(cells))
        if len(piece) == rows_per_piece:
            yield "".join(piece)
            piece = []
    if piece:
        yield "".join(piece)


BOM = "\ufeff"
# What a spreadsheet takes for the start of a formula (OWASP, "CSV injection").
FORMULA_STARTS = frozenset("=+-@\t\r")
NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _inert(cell: str) -> str:
    """The cell as data: text a spreadsheet would run as a formula gets a leading
    apostrophe; numbers, even negative ones written as text, stay numbers."""
    return cell if NUMBER.fullmatch(cell) else "'" + cell


def _number(value: float) -> str:
    # As R writes them: 1440 rather than 1440.0.
    return str(int(value)) if value == int(value) else str(value)


SIGHTING_COLUMNS = [
    "sighting_id", "event_id", "observed_at_utc", "local_time", "local_date", "team",
    "country", "location_id", "location", "latitude", "longitude", "coordinates_generalised",
    "scientific_name", "common_name", "count", "sex", "life_stage", "individual",
    "review_status", "classified_how", "independent", "media_files",
]  # fmt: skip

_SIGHTING_FIELDS = (
    "pk", "event_id", "observed_text", "local_date_text", "location_id", "event__deployment_id",
    "species_id", "count", "sex", "life_stage", "individual__code", "review_status",
    "classification_method", "is_independent", "event__media__original_name",
)  # fmt: skip
CHUNK = 10_000


def sighting_rows(sightings: QuerySet, places: dict[int, Place], language: str) -> Iterator[list]:
    """One row per sighting, with each station's place as the viewer may see it
    (access.places), a chunk at a time.

    Stations, deployments and species, a few thousand at most, are looked up once.
    """
    yield SIGHTING_COLUMNS
    places = _stations(places)
    zones = _zones()
    # The response is written after the view has returned, its language switched off.
    with translation.override(language):
        names = {s.pk: (s.scientific_name, s.common_name) for s in Species.objects.all()}
    # The instant as text, parsed by fromisoformat: the driver's own parsing of timestamps
    # took an eighth of the export's time. The date is only written out: text as it comes.
    ordered = sightings.annotate(
        observed_text=Cast("observed_at", TextField()),
        local_date_text=Cast("local_date", TextField()),
    )
    ordered = ordered.order_by("pk", "event__media__captured_at", "event__media__id")
    for rows in _chunks(ordered):
        for _, group in groupby(rows, key=itemgetter(0)):
            group = list(group)
            (pk, event, observed, local_date, location, deployment, species, count, sex,
             life_stage, individual, review, method, independent, _) = group[0]  # fmt: skip
            observed = dt.datetime.fromisoformat(observed)
            if observed.tzinfo is None:  # SQLite's text has no offset: it is UTC
                observed = observed.replace(tzinfo=dt.UTC)
            scientific, common = names.get(species, (None, None))
            # csv writes None as an empty field.
            yield [
                pk, event, observed.isoformat(), observed.astimezone(zones[deployment]).isoformat(),
                local_date, *places[location], scientific, common, count, sex, life_stage,
                individual, review, method, "yes" if independent else "no",
                ";".join(image[-1] for image in group if image[-1]),
            ]  # fmt: skip


def _chunks(ordered: QuerySet) -> Iterator[list[tuple]]:
    """The database rows (one per image) in chunks that follow the id and hold whole
    sightings, so memory stays flat however many rows there are.

    The next chunk is fetched in a second thread, on the same connection, while the caller
    writes this one out: the export then takes the longer of the database's time and
    Python's rather than their sum (the driver lets go of the GIL while it waits).
    """
    database = connections[ordered.db]

    def compiled(after: int) -> tuple[str, tuple]:
        # Compiled here, executed there: only the fetch touches the connection.
        chunk = ordered.filter(pk__gt=after).values_list(*_SIGHTING_FIELDS)[:CHUNK]
        return chunk.query.sql_with_params()

    def fetch(sql: str, params: tuple) -> list[tuple]:
        # A plain cursor: the values come back as the driver makes them, without Django's
        # per-row conversion (a fifth of the export's time).
        with database.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    database.inc_thread_sharing()
    try:
        with ThreadPoolExecutor(max_workers=1) as fetcher:
            pending = fetcher.submit(fetch, *compiled(0))
            while pending is not None:
                rows, pending = pending.result(), None
                if len(rows) == CHUNK:
                    rows, after = _whole_sightings(rows)
                    pending = fetcher.submit(fetch, *compiled(after))
                yield rows
    finally:
        database.dec_thread_sharing()


def _whole_sightings(rows: list[tuple]) -> tuple[list[tuple], int]:
    """A full chunk without its last sighting, whose images may go on in the next chunk,
    and the id to go on after. A chunk of one sighting is kept whole."""
    last = rows[-1][0]
    cut = len(rows)
    while cut and rows[cut - 1][0] == last:
        cut -= 1
    if cut == 0:
        return rows, last
    return rows[:cut], rows[cut - 1][0]


def _stations(places: dict[int, Place]) -> dict[int, tuple]:
    """Each station's columns, from team to "coordinates_generalised": worked out once per
    station, not once per sighting."""
    rows = Location.objects.values_list("pk", "team__name", "country", "name")
    stations = {}
    for pk, team, country, name in rows.iterator(chunk_size=5000):
        place = places[pk]
        # As text once here, not once per sighting in the writer.
        coordinates = ("" if v is None else repr(v) for v in (place.latitude, place.longitude))
        stations[pk] = (team, country, str(pk), name, *coordinates)
        stations[pk] += ("yes" if place.generalised else "no",)
    return stations


def _zones() -> dict[int, zoneinfo.ZoneInfo]:
    rows = Deployment.objects.values_list("pk", "time_zone")
    return {pk: zoneinfo.ZoneInfo(zone or "UTC") for pk, zone in rows.iterator(chunk_size=5000)}
