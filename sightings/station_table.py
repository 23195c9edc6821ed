"""camtrapR's camera trap station table (its `camtraps` sample), read into our deployments.

Columns as camtrapR's cameraOperation() reads them (camtrapR 3.0.3, R/cameraOperation.R):
Station, Setup_date, Retrieval_date, and optionally pairs ProblemN_from / ProblemN_to (the
separator may be any character, as camtrapR's pattern "Problem[0-9]+\\Sfrom" allows); both
of a pair empty (or NA) means no problem. Dates only: camtrapR then takes setup and retrieval
to be at noon, which is what we store (noon of the camera clock), and problems to cover whole
days, which is what a MalfunctionPeriod is. Optional latitude / longitude columns (WGS84)
place the station. Each station names a location of the team that has one deployment.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from sightings import events
from sightings.models import Deployment, Location, MalfunctionPeriod, Team

# lubridate's orders for dates (as camtrapR's dateFormat "dmy"), or a strptime format.
ORDERS = ("ymd", "dmy", "mdy")
PROBLEM = re.compile(r"^Problem(\d+)\S(from|to)$")
LATITUDE, LONGITUDE = ("latitude", "lat"), ("longitude", "lon", "long")


class StationTableError(Exception):
    """Why the table cannot be imported: every problem found, one a line."""


@dataclass
class Station:
    name: str
    setup: dt.date
    retrieval: dt.date
    problems: list[tuple[dt.date, dt.date]] = field(default_factory=list)
    latitude: float | None = None
    longitude: float | None = None
    deployment: Deployment | None = None


def read(path: Path, date_format: str) -> list[Station]:
    """The table's stations; raises StationTableError listing every bad row."""
    if "H" in date_format:
        # camtrapR switches to date-times when the format has hours; our malfunction periods
        # are whole days, so a table with times is refused rather than read differently.
        raise StationTableError("Only dates are read (e.g. dmy, ymd, %d/%m/%Y), not times.")
    with path.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.DictReader(file))
    columns = list(rows[0]) if rows else []
    missing = {"Station", "Setup_date", "Retrieval_date"} - set(columns)
    if missing:
        raise StationTableError(f"Missing columns: {', '.join(sorted(missing))}")
    stations, errors = [], []
    for number, row in enumerate(rows, 2):  # line numbers as a spreadsheet shows them
        try:
            stations.append(_station(row, columns, date_format))
        except ValueError as error:
            errors.append(f"line {number}: {error}")
    if errors:
        raise StationTableError("\n".join(errors))
    return stations


def _station(row: dict, columns: list[str], date_format: str) -> Station:
    name = (row["Station"] or "").strip()
    if not name:
        raise ValueError("no station name")
    station = Station(
        name, _date(row["Setup_date"], date_format), _date(row["Retrieval_date"], date_format)
    )
    if station.retrieval <= station.setup:
        raise ValueError(f"{name}: retrieval is not after setup")
    station.problems = _problems(row, columns, date_format, station)
    station.latitude = _coordinate(row, columns, LATITUDE, 90)
    station.longitude = _coordinate(row, columns, LONGITUDE, 180)
    return station


def _problems(
    row: dict, columns: list[str], date_format: str, station: Station
) -> list[tuple[dt.date, dt.date]]:
    pairs: dict[int, dict[str, str]] = {}
    for column in columns:
        if match := PROBLEM.match(column):
            pairs.setdefault(int(match[1]), {})[match[2]] = _text(row[column])
    problems = []
    for number, pair in sorted(pairs.items()):
        start, end = pair.get("from", ""), pair.get("to", "")
        if not start and not end:
            continue
        if not start or not end:
            raise ValueError(f"{station.name}: Problem{number} needs both from and to")
        problems.append((_date(start, date_format), _date(end, date_format)))
    for start, end in problems:
        # camtrapR's own refusals, compared as dates.
        if end < start:
            raise ValueError(f"{station.name}: a problem ends before it starts")
        if start < station.setup:
            raise ValueError(f"{station.name}: Problem begins before Setup")
        if end > station.retrieval:
            raise ValueError(f"{station.name}: Problem ends after retrieval")
    if (day := MalfunctionPeriod.overlap(problems)) is not None:
        raise ValueError(f"{station.name}: two problems share {day}")
    return problems


def _text(value: str | None) -> str:
    value = (value or "").strip()
    return "" if value == "NA" else value  # R writes missing values as NA


def _date(value: str | None, date_format: str) -> dt.date:
    text = _text(value)
    if "%" in date_format:
        return dt.datetime.strptime(text, date_format).date()
    if date_format not in ORDERS:
        raise ValueError(f"unknown date format {date_format!r}: use {', '.join(ORDERS)}")
    parts = re.findall(r"\d+", text)
    if len(parts) != 3:
        raise ValueError(f"{text!r} is not a date in {date_format} order")
    found = dict(zip(date_format, map(int, parts), strict=True))
    if found["y"] < 1000:
        raise ValueError(f"{text!r}: give the year with four digits")
    return dt.date(found["y"], found["m"], found["d"])


def _coordinate(row: dict, columns: list[str], names: tuple, limit: float) -> float | None:
    column = next((c for c in columns if c.strip().casefold() in names), None)
    text = _text(row.get(column)) if column else ""
    if not text:
        return None
    value = float(text)
    if not -limit <= value <= limit:
        raise ValueError(f"{column} {value} is out of range")
    return value


def match(team: Team, stations: list[Station]) -> None:
    """Find each station's deployment: the one deployment of the team's location of that
    name. Raises StationTableError naming every station that has none or several."""
    errors, seen = [], set()
    locations = {location.name: location for location in team.locations.all()}
    for station in stations:
        location = locations.get(station.name)
        deployments = list(location.deployments.all()) if location else []
        if station.name in seen:
            errors.append(f"{station.name}: listed twice (one row per station)")
        elif location is None:
            errors.append(f"{station.name}: {team} has no location of that name")
        elif len(deployments) != 1:
            errors.append(
                f"{station.name}: has {len(deployments)} deployments, not one; set their "
                "periods on their pages"
            )
        else:
            station.deployment = deployments[0]
        seen.add(station.name)
    if errors:
        raise StationTableError("\n".join(errors))


@transaction.atomic
def apply(stations: list[Station]) -> None:
    """Set each matched deployment's period (noon of the camera clock on the setup and the
    retrieval day, as camtrapR assumes for dates) and its malfunction periods."""
    for station in stations:
        deployment = station.deployment
        before = {"start_at": deployment.start_at, "end_at": deployment.end_at}
        deployment.start_at = _noon(station.setup, deployment)
        deployment.end_at = _noon(station.retrieval, deployment)
        deployment.save(update_fields=["start_at", "end_at"])
        deployment.malfunctions.all().delete()
        MalfunctionPeriod.objects.bulk_create(
            MalfunctionPeriod(deployment=deployment, starts_on=start, ends_on=end)
            for start, end in station.problems
        )
        _place(deployment.location, station)
        # As the deployment page does: capture times and events follow a new period.
        changed = {name: value for name, value in before.items()
                   if getattr(deployment, name) != value}  # fmt: skip
        events.deployment_changed(deployment, changed)


def _noon(day: dt.date, deployment: Deployment) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), deployment.zone).astimezone(dt.UTC)


def _place(location: Location, station: Station) -> None:
    if station.latitude is None or station.longitude is None:
        return
    location.latitude, location.longitude = station.latitude, station.longitude
    location.save(update_fields=["latitude", "longitude"])
