"""Camera operation: how long each station watched, day by day, as camtrapR's
cameraOperation() works it out.

Followed: camtrapR 3.0.3 (github.com/jniedballa/camtrapR at e31f2da9, 2026-04-20):
R/cameraOperation.R and intersect.Interval.fast in R/variousOtherHelperFunctions.R, its
manual page, vignette 3 ("Data extraction") and tests/testthat/test_cameraOperation.R.

A location is a station, each of its deployments a camera (a row of camtrapR's station
table, with cameraCol). Everything is in the camera clock's wall time (the deployment's
time zone), as camtrapR reads DateTimeOriginal; a day is 24 h.

One camera, one day (the day starting at the occasion start hour H): the share of the day
between setup and retrieval less the share inside malfunction periods, rounded to 4
decimals. In camtrapR's seconds:
- the camera runs from setup to retrieval - 1 s, a day from H:00:00 to H:00:00 + 86,399 s
  (a whole day is 86,399 / 86,400 s: 1 once rounded; setup and retrieval at noon, what a
  table of dates gives (station_table.py): 0.5);
- a day the camera's run does not touch is None (camtrapR's NA): before setup, after
  retrieval;
- a malfunction period (whole days: MalfunctionPeriod) runs from its first day's 00:00:00
  to its last day's 23:59:58, from setup instead if it starts on the setup day, to
  retrieval - 2 s if it ends on the retrieval day: camtrapR's reading of problem dates.
  The days it covers are 0;
- with H = 12, a retrieval at exactly noon is camtrapR's date-only retrieval, which it
  moves 1 s later: the occasion starting then is 0 rather than NA, so that the detection
  history keeps that day's records.

Several cameras at a station combine as camtrapR does for dates (its manual; the table in
vignette 3), x being the cameras' values that day:
- all_cams_on, cameras_independent: sum(x) if all(x == 1), else 0;
- all_cams_on: 1 if all(x == 1), else 0;
- cameras_independent: sum(x), NAs left out;
- neither (our default): min(1, sum(x)), NAs left out: a station is watched when any of its
  cameras is; a camera replaced at noon by the next leaves no gap.
With all_cams_on, an NA among cameras otherwise at 1 makes the day NA, as R's all() does.

Where we differ, on purpose: camtrapR moves only Problem1 to a setup-day setup (another
problem on that day stops it with an error), and stops on problems outside the camera's run,
which we clip; a deployment still running (no end) ends at its last image, since camtrapR
needs a retrieval date, and one without images is left out. camtrapR's date-time mode
(dateFormat with hours) combines partial days otherwise (min, mean); we follow its mode for
dates, the one its manual documents.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db.models import Max, QuerySet
from django.utils.translation import gettext_lazy as _

from sightings import access
from sightings.filters import SightingFilter
from sightings.models import Deployment, MalfunctionPeriod, Media

DAY = 86_400
WHOLE_DAY = round((DAY - 1) / DAY, 4)  # 1.0: camtrapR's days are a second short


class OperationError(Exception):
    """Why no camera operation can be worked out, for people."""


@dataclass(frozen=True)
class Camera:
    """One deployment as a row of camtrapR's station table, in the camera clock."""

    location_id: int
    station: str
    deployment_id: int
    setup: dt.datetime  # naive wall time
    retrieval: dt.datetime
    problems: tuple[tuple[dt.date, dt.date], ...] = ()


@dataclass
class Row:
    station: str
    location_id: int
    values: list[float | None]
    deployment_id: int | None = None  # by camera only


@dataclass
class Operation:
    """camtrapR's camera operation matrix: a row per station (or camera), a column per day."""

    days: list[dt.date]
    start_hour: int
    rows: list[Row] = field(default_factory=list)

    def column_names(self) -> list[str]:
        """camtrapR's: the date, with "+12h" when days start at 12:00."""
        suffix = f"+{self.start_hour}h" if self.start_hour else ""
        return [f"{day.isoformat()}{suffix}" for day in self.days]


# The cameras of a filtered set


def deployments(viewer: access.Viewer, filters: dict) -> QuerySet[Deployment]:
    """The cameras behind a filtered set of sightings: the deployments the viewer may know
    of, at the places the browser's filters name (SightingFilter's cleaned data: country,
    team, location, deployment). The other filters choose detections, not stations."""
    found = access.shared_deployments(viewer)
    if filters.get("country"):
        found = found.filter(location__country__in=filters["country"])
    if filters.get("team"):
        found = found.filter(location__team__in=filters["team"])
    if filters.get("location"):
        found = found.filter(location__in=filters["location"])
    if filters.get("deployment"):
        found = found.filter(pk=filters["deployment"].pk)
    return found


def cameras(found: QuerySet[Deployment], with_problems: bool = True) -> list[Camera]:
    """The deployments as cameras: four queries whatever their number."""
    rows = list(
        found.order_by().values_list(
            "pk", "location_id", "location__name", "location__team__name", "start_at",
            "end_at", "time_zone",
        )
    )  # fmt: skip
    problems: dict[int, list[tuple[dt.date, dt.date]]] = {}
    if with_problems:
        periods = MalfunctionPeriod.objects.filter(deployment__in=[row[0] for row in rows])
        for pk, start, end in periods.values_list("deployment_id", "starts_on", "ends_on"):
            problems.setdefault(pk, []).append((start, end))
    ends = _last_images([row[0] for row in rows if row[5] is None])
    labels = _station_labels(rows)
    found_cameras = []
    for pk, location, _name, _team, start, end, zone in rows:
        end = end or ends.get(pk)
        if end is None:
            continue  # running, and no image yet: nothing says how long it has watched
        clock = Deployment(start_at=start, time_zone=zone)
        camera = Camera(
            location, labels[location], pk, _wall(clock, start), _wall(clock, end),
            tuple(sorted(problems.get(pk, []))),
        )  # fmt: skip
        if camera.retrieval > camera.setup:
            found_cameras.append(camera)
    return found_cameras


def _last_images(running: list[int]) -> dict[int, dt.datetime]:
    media = Media.objects.filter(deployment__in=running).order_by().values("deployment")
    return dict(media.annotate(last=Max("captured_at")).values_list("deployment", "last"))


def _wall(clock: Deployment, instant: dt.datetime) -> dt.datetime:
    return clock.local(instant).replace(microsecond=0)  # camtrapR reads whole seconds


def _station_labels(rows: list[tuple]) -> dict[int, str]:
    """Station names, with the team's where two teams use one name in the set."""
    names: dict[str, set[int]] = {}
    for row in rows:
        names.setdefault(row[2], set()).add(row[1])
    return {
        location: name if len(names[name]) == 1 else f"{name} ({team})"
        for _pk, location, name, team, *_rest in rows
    }


def filtered_operation(
    viewer: access.Viewer, filterset: SightingFilter, with_problems: bool = True, **options
) -> tuple[list[Camera], Operation]:
    """The cameras and the camera operation behind a filtered set of sightings (the browser's
    filters over access.sightings(viewer), validated): its days within the set's dates,
    options as camera_operation() takes them."""
    cleaned = filterset.form.cleaned_data
    found = cameras(deployments(viewer, cleaned), with_problems)
    days = {"first_day": cleaned.get("date_from"), "last_day": cleaned.get("date_to")}
    return found, camera_operation(found, **days, **options)


# The matrix


def camera_operation(
    cameras: list[Camera],
    *,
    start_hour: int = 0,
    by_camera: bool = False,
    all_cams_on: bool = False,
    cameras_independent: bool = False,
    first_day: dt.date | None = None,
    last_day: dt.date | None = None,
) -> Operation:
    """camtrapR's cameraOperation() for these cameras: columns from the first setup day to
    the last retrieval day (within first_day and last_day, where given)."""
    if not cameras:
        raise OperationError(_("No deployment in this set has a period to work from."))
    first = max(min(camera.setup.date() for camera in cameras), first_day or dt.date.min)
    last = min(max(camera.retrieval.date() for camera in cameras), last_day or dt.date.max)
    if last < first:
        raise OperationError(_("No deployment in this set ran between these dates."))
    days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    operation = Operation(days, start_hour)
    origin = dt.datetime.combine(first, dt.time(start_hour))
    by_station: dict[int, list[Camera]] = {}
    for camera in sorted(cameras, key=lambda c: (c.station, c.deployment_id)):
        by_station.setdefault(camera.location_id, []).append(camera)
    for location, group in by_station.items():
        values = [_camera_values(camera, origin, len(days), start_hour) for camera in group]
        if by_camera:
            operation.rows += [
                Row(f"{c.station}__CAM_{c.deployment_id}", location, v, c.deployment_id)
                for c, v in zip(group, values, strict=True)
            ]
        else:
            combined = _combine(values, all_cams_on, cameras_independent)
            operation.rows.append(Row(group[0].station, location, combined))
    return operation


def _camera_values(
    camera: Camera, origin: dt.datetime, days: int, start_hour: int
) -> list[float | None]:
    """One camera's row: day i runs from origin + i days for 86,399 s."""
    setup = _seconds(camera.setup, origin)
    retrieval = _seconds(camera.retrieval, origin)
    if start_hour == 12 and camera.retrieval.time() == dt.time(12):
        retrieval += 1  # camtrapR's date-only retrieval with occasions from noon
    end = retrieval - 1  # camtrapR's interval: setup to retrieval - 1 s
    problems = [
        _problem(camera, start, stop, origin, setup, retrieval) for start, stop in camera.problems
    ]
    values: list[float | None] = [None] * days
    first = max(0, -(-(setup - DAY + 1) // DAY))  # the first day whose end reaches setup
    last = min(days - 1, end // DAY)  # the last day starting by the end
    # Days wholly inside the run are 1 (cheap: most are); the others are worked out.
    inner_first, inner_last = max(first, -(-setup // DAY)), min(last, (end - DAY + 1) // DAY)
    if inner_first <= inner_last:
        values[inner_first : inner_last + 1] = [WHOLE_DAY] * (inner_last - inner_first + 1)
    exact = {first, last} | set(range(first, min(inner_first, last + 1)))
    exact |= set(range(max(inner_last + 1, first), last + 1))
    for start, stop in problems:
        exact |= set(range(max(first, start // DAY), min(last, stop // DAY) + 1))
    for day in exact:
        if first <= day <= last:
            values[day] = _day_value(day * DAY, setup, end, problems, camera)
    return values


def _seconds(moment: dt.datetime, origin: dt.datetime) -> int:
    return int((moment - origin).total_seconds())


def _problem(
    camera: Camera, start: dt.date, stop: dt.date, origin: dt.datetime, setup: int, retrieval: int
) -> tuple[int, int]:
    """A malfunction period as camtrapR's problem interval, in seconds from the origin."""
    begins = setup if start == camera.setup.date() else _seconds(_midnight(start), origin)
    ends = retrieval if stop == camera.retrieval.date() else _seconds(_midnight(stop), origin)
    ends = min(ends + DAY - 1, retrieval - 1)  # "+ ddays(1) - dseconds(1)", cut at the run's end
    return max(begins, setup), ends - 1  # camtrapR's interval ends 1 s earlier still


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())


def _day_value(
    start: int, setup: int, end: int, problems: list[tuple[int, int]], camera: Camera
) -> float:
    stop = start + DAY - 1
    watched = min(stop, end) - max(start, setup)
    lost = sum(max(0, min(stop, p_end) - max(start, p_start)) for p_start, p_end in problems)
    value = watched / DAY - lost / DAY
    if value < 0:
        # camtrapR's "Negative effort calculated": periods sharing a day, which the
        # deployment's page and the station table refuse.
        raise OperationError(
            _("The malfunction periods of %(station)s overlap.") % {"station": camera.station}
        )
    return round(value, 4)


def _combine(
    values: list[list[float | None]], all_cams_on: bool, independent: bool
) -> list[float | None]:
    """One station's row from its cameras' rows (camtrapR's aggregate() over cameras)."""
    if len(values) == 1 and not all_cams_on:
        return values[0]  # the sum or the capped sum of one value is the value
    return [_combine_day(day, all_cams_on, independent) for day in zip(*values, strict=True)]


def _combine_day(x: tuple, all_cams_on: bool, independent: bool) -> float | None:
    known = [value for value in x if value is not None]
    if all_cams_on:
        if any(value != 1 for value in known):
            return 0.0
        if len(known) < len(x):
            return None  # R: all(c(NA, 1) == 1) is NA
        return math.fsum(known) if independent else 1.0
    if not known:
        return None
    total = math.fsum(known)
    return total if independent else min(total, 1)


# Writing


def number(value: float | None) -> str:
    """As R's write.csv writes a number: 15 significant digits, NA for missing."""
    return "NA" if value is None else f"{value:.15g}"


def table(operation: Operation) -> Iterator[list[str]]:
    """camtrapR's layout: a Station column, then one per day."""
    yield ["Station", *operation.column_names()]
    for row in operation.rows:
        yield [row.station, *map(number, row.values)]
