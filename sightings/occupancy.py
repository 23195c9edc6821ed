"""Detection histories for occupancy models, as camtrapR's detectionHistory() makes them.

Followed: camtrapR 3.0.3 (github.com/jniedballa/camtrapR at e31f2da9, 2026-04-20):
R/detectionHistory.R (one species, no sessions) and its helpers in
R/variousOtherHelperFunctions.R (createDateRangeTable, adjustCameraOperationMatrix,
calculateTrappingEffort, cleanSubsetSpecies), its manual page, vignette 3 ("Data
extraction": the VTA histories and the table "Handling of incomplete occasions") and
tests/testthat/test_detectionHistory.R.

From the camera operation (effort.py) and the species' independent detections, in the
camera clock:
- day1 "station": each station's occasions start on its first operating day (its own
  columns, left-aligned); "survey": every station's on the first station's; a date: on it.
  buffer days later for station and survey; the day starts at the operation's start hour.
- A detection falls into occasion ceil((time - start) / (occasion_length days)): a record
  exactly at an occasion's start belongs to the one before, as in camtrapR. Records before
  the start or after the end (the end of the last operating day, or max_days after the
  start) are left out, with a warning. If a record sits exactly on the first start, camtrapR
  moves every record taken at 00:00:00 to H:00:01 and counts again.
- Effort of an occasion: the sum of its days' operation; None (NA) when no day ran
  (all NA or 0). Without include_effort, an occasion with any NA or 0 day, and the last
  occasion when it is short, are NA for every station; with min_active_days, an occasion
  is NA when its effort is below it (and nothing else is). With include_effort, partial
  occasions stay, their effort written beside.
- The history: 0 where the effort is known, 1 (binary) or the number of detections (count)
  in occasions with detections, NA where the effort is NA or 0 (effort scaled: NA only).
- scale_effort: effort centred and scaled over all known values (R's scale()).
camtrapR's own quirks are kept: maxNumberDays counts from each station's start with day1
"survey", and from the first station's with a date; an end one day before the matrix's last
day leaves that last day in.
Where we differ: stations without any operating day in the matrix are left out (camtrapR
cannot take them); one species at a time.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from sightings import independence
from sightings.effort import Operation, number
from sightings.models import Sighting, Species

DAY = dt.timedelta(days=1)
OUTPUTS = ("binary", "count")


class HistoryError(Exception):
    """Why camtrapR would make no detection history of this, for people."""


@dataclass
class History:
    stations: list[str]
    detections: list[list[int | None]]
    effort: list[list[float | None]] | None = None
    scaling: tuple[float, float] | None = None  # center, scale
    warnings: list[str] = field(default_factory=list)

    def table(self, rows: list[list]) -> Iterator[list[str]]:
        """camtrapR's layout: a Station column, then o1, o2, ... (rows: the detections or
        the effort)."""
        yield ["Station", *(f"o{n}" for n in range(1, len(rows[0]) + 1))]
        for station, values in zip(self.stations, rows, strict=True):
            yield [station, *map(number, values)]


@dataclass
class Options:
    occasion_length: int
    day1: str | dt.date = "station"
    output: str = "binary"
    include_effort: bool = False
    scale_effort: bool = False
    min_active_days: float | None = None
    buffer: int | None = None
    max_days: int | None = None


def day1(text: str) -> str | dt.date:
    """camtrapR's day1 as given: "station", "survey" or a date (YYYY-MM-DD)."""
    text = text.strip().lower()
    if text in ("station", "survey"):
        return text
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise HistoryError(_("day1 is station, survey or a date (YYYY-MM-DD).")) from None


def detection_history(
    operation: Operation, detections: list[tuple[int, dt.datetime]], options: Options
) -> History:
    """camtrapR's detectionHistory() of one species' detections: (location, camera-clock
    time) pairs, from independence.detection_times()."""
    if not options.include_effort:
        options = replace(options, scale_effort=False)  # as camtrapR does
    rows = [row for row in operation.rows if any(v is not None for v in row.values)]
    _check(operation, rows, detections, options)
    ranges = _ranges(operation, rows, options)
    matrix = _adjust(operation, [list(row.values) for row in rows], ranges, options)
    effort = _effort(matrix, options)
    scaling = _scale(effort) if options.scale_effort else None
    history = History([row.station for row in rows], [], effort, scaling)
    occasions = _occasions(rows, detections, ranges, options, history.warnings)
    if max(occasion for _, occasion in occasions) > len(effort[0]):
        raise HistoryError(_("An occasion past the last was worked out."))
    history.detections = _fill(matrix, effort, occasions, options)
    if not options.include_effort:
        history.effort = None
    return history


def filtered_history(
    operation: Operation,
    sightings: QuerySet[Sighting],
    species: Species,
    options: Options,
    min_delta_minutes: float | None = None,
) -> History:
    """The detection history of one species in a filtered set of sightings (independent
    detections by the site's rule, or at min_delta_minutes), over the set's camera
    operation (effort.filtered_operation)."""
    found = independence.detection_times(sightings.filter(species=species), min_delta_minutes)
    return detection_history(operation, [(loc, time) for loc, _, time in found], options)


@dataclass
class _Ranges:
    """createDateRangeTable: per station, when its first occasion starts and its last ends."""

    starts: list[dt.datetime]
    ends: list[dt.datetime]
    survey_start: dt.datetime
    start_hour: int


def _check(operation: Operation, rows: list, detections: list, options: Options) -> None:
    length = options.occasion_length
    if length < 1:
        raise HistoryError(_("The occasion length must be at least 1 day."))
    if length > len(operation.days):
        raise HistoryError(_("The occasion length must be shorter than the days of operation."))
    if options.max_days is not None and not length <= options.max_days <= len(operation.days):
        raise HistoryError(_("The most days must be between the occasion length and the days "
                             "of operation."))  # fmt: skip
    if options.buffer is not None and (options.buffer < 1 or isinstance(options.day1, dt.date)):
        raise HistoryError(_("A buffer is 1 day or more, and only with day1 station or survey."))
    if options.buffer is not None and options.buffer >= len(operation.days):
        # Every station would start after its last day, as _adjust finds; found here, before
        # a buffer of billions of days overflows the dates.
        raise HistoryError(_("At every station the occasions start after retrieval: choose "
                             "a smaller buffer."))  # fmt: skip
    if options.min_active_days is not None and options.min_active_days > length:
        raise HistoryError(_("The minimum of active days is more than the occasion length."))
    if options.scale_effort and length == 1:
        raise HistoryError(_("Effort cannot be scaled with occasions of 1 day."))
    if not detections:
        raise HistoryError(_("The species has no detections in this set."))
    if {location for location, _ in detections} - {row.location_id for row in rows}:
        raise HistoryError(_("Some detections are at stations without camera operation."))


def _ranges(operation: Operation, rows: list, options: Options) -> _Ranges:
    hour = dt.time(operation.start_hour)
    buffer = DAY * (options.buffer or 0)
    firsts = [operation.days[_first(row.values)] for row in rows]
    lasts = [operation.days[_last(row.values)] for row in rows]
    starts = [dt.datetime.combine(day, hour) + buffer for day in firsts]
    survey_start = min(starts)
    if isinstance(options.day1, dt.date):
        if options.day1 < min(firsts):
            raise HistoryError(
                _("day1 (%(day1)s) is before the first station's setup date (%(setup)s).")
                % {"day1": options.day1, "setup": min(firsts)}
            )
        if options.day1 > max(lasts):
            raise HistoryError(
                _("day1 (%(day1)s) is after the last station's retrieval date (%(retrieval)s).")
                % {"day1": options.day1, "retrieval": max(lasts)}
            )
        starts = [dt.datetime.combine(options.day1, hour)] * len(rows)
    ends = [dt.datetime.combine(day, dt.time(23, 59, 59)) for day in lasts]
    if options.max_days is not None:
        # camtrapR's createDateRangeTable: from the first station's start with a date as
        # day1, from each station's own start otherwise ("survey" too).
        bases = [survey_start] * len(rows) if isinstance(options.day1, dt.date) else starts
        most = DAY * options.max_days - dt.timedelta(seconds=1)
        ends = [min(end, base + most) for end, base in zip(ends, bases, strict=True)]
    return _Ranges(starts, ends, survey_start, operation.start_hour)


def _first(values: list) -> int:
    return next(n for n, value in enumerate(values) if value is not None)


def _last(values: list) -> int:
    return len(values) - 1 - _first(values[::-1])


def _adjust(operation: Operation, matrix: list[list], ranges: _Ranges, options: Options) -> list:
    """adjustCameraOperationMatrix: days outside each station's occasions become NA, then
    the matrix is cut to the occasions (left-aligned per station with day1 "station")."""
    late = [start > end for start, end in zip(ranges.starts, ranges.ends, strict=True)]
    if all(late):
        raise HistoryError(_("At every station the occasions start after retrieval: choose "
                             "a smaller buffer."))  # fmt: skip
    index = {day: n for n, day in enumerate(operation.days)}
    columns = len(operation.days)
    for values, start, end, is_late in zip(matrix, ranges.starts, ranges.ends, late, strict=True):
        first, last = index.get(start.date(), columns), index[end.date()]
        if is_late or first == columns:
            values[:] = [None] * columns
            continue
        values[:first] = [None] * first
        # camtrapR clears the days after the end only if at least two follow it.
        if last + 2 < columns:
            values[last + 1 :] = [None] * (columns - last - 1)
    if options.day1 == "station":
        return _left_aligned(matrix)
    keep_from = index.get(min(ranges.starts).date(), 0)
    keep_to = index.get(max(ranges.ends).date(), columns - 1)
    return [values[keep_from : keep_to + 1] for values in matrix]


def _left_aligned(matrix: list[list]) -> list[list]:
    spans = [
        values[_first(values) : _last(values) + 1] if any(v is not None for v in values) else []
        for values in matrix
    ]
    width = max(len(span) for span in spans)
    return [span + [None] * (width - len(span)) for span in spans]


def _effort(matrix: list[list], options: Options) -> list[list[float | None]]:
    """calculateTrappingEffort: the days of each occasion summed, NA as its rules say."""
    length = options.occasion_length
    if length == 1:
        return [list(values) for values in matrix]
    columns = len(matrix[0])
    count = math.ceil(columns / length)
    return [
        [_occasion_effort(values[m * length : (m + 1) * length], options) for m in range(count)]
        for values in matrix
    ]


def _occasion_effort(days: list[float | None], options: Options) -> float | None:
    total = math.fsum(day for day in days if day is not None)
    if not any(day for day in days if day is not None):
        return None  # every day NA or 0 (R: all(X == 0) is NA or TRUE)
    if options.min_active_days is not None:
        return None if total < options.min_active_days else total
    if not options.include_effort and (
        None in days or 0 in days or len(days) < options.occasion_length
    ):
        return None
    return total


def _scale(effort: list[list[float | None]]) -> tuple[float, float]:
    """R's scale() over all known values, in place: (center, scale)."""
    known = [value for values in effort for value in values if value is not None]
    if len(set(known)) < 2:
        raise HistoryError(_("The effort is the same everywhere: it cannot be scaled."))
    center = math.fsum(known) / len(known)
    scale = math.sqrt(math.fsum((v - center) ** 2 for v in known) / max(1, len(known) - 1))
    for values in effort:
        values[:] = [None if v is None else (v - center) / scale for v in values]
    return center, scale


def _occasions(
    rows: list, detections: list, ranges: _Ranges, options: Options, warnings: list[str]
) -> list[tuple[int, int]]:
    """cleanSubsetSpecies, then each detection's (row, occasion)."""
    row_of = {row.location_id: n for n, row in enumerate(rows)}
    kept = [(row_of[location], time) for location, time in detections]
    before = [(r, t) for r, t in kept if t < ranges.starts[r]]
    kept = _left_out(kept, before, len(detections), warnings, BEFORE_START)
    after = [(r, t) for r, t in kept if t > ranges.ends[r]]
    kept = _left_out(kept, after, len(detections), warnings, AFTER_END)
    occasions = _numbered(kept, ranges, options)
    if any(occasion == 0 for _, occasion in occasions):
        occasions = _numbered(_midnights_moved(kept, ranges), ranges, options)
        if any(occasion == 0 for _, occasion in occasions):
            raise HistoryError(_("A record lies exactly on the start of the first occasion."))
    return occasions


# camtrapR's warnings (cleanSubsetSpecies).
BEFORE_START = ngettext_lazy(
    "%(count)s record (out of %(total)s) was removed because it was taken before day1, "
    "within the buffer period, or before the start hour on the first day.",
    "%(count)s records (out of %(total)s) were removed because they were taken before day1, "
    "within the buffer period, or before the start hour on the first day.",
    "count",
)
AFTER_END = ngettext_lazy(
    "%(count)s record (out of %(total)s) was removed because it was taken after the end of "
    "the last occasion.",
    "%(count)s records (out of %(total)s) were removed because they were taken after the "
    "end of the last occasion.",
    "count",
)


def _left_out(kept: list, removed: list, total: int, warnings: list[str], message) -> list:
    if not removed:
        return kept
    warnings.append(message % {"count": len(removed), "total": total})
    gone = set(removed)
    left = [item for item in kept if item not in gone]
    if not left:
        raise HistoryError(_("No records are left: the detection history would be empty."))
    return left


def _numbered(kept: list, ranges: _Ranges, options: Options) -> list[tuple[int, int]]:
    length = options.occasion_length * DAY.total_seconds()
    survey = options.day1 == "survey"
    numbered = []
    for row, time in kept:
        start = ranges.survey_start if survey else ranges.starts[row]
        numbered.append((row, math.ceil((time - start).total_seconds() / length)))
    if any(occasion < 0 for _, occasion in numbered):
        raise HistoryError(_("A record was placed before the first occasion."))
    return numbered


def _midnights_moved(kept: list, ranges: _Ranges) -> list:
    """camtrapR's fix for records without a time: those at 00:00:00 move to H:00:01."""
    midnight = dt.time()
    if not any(time.time() == midnight for _, time in kept):
        raise HistoryError(_("A record lies exactly on the start of the first occasion."))
    hour = dt.time(ranges.start_hour, 0, 1)
    return [
        (row, dt.datetime.combine(time.date(), hour) if time.time() == midnight else time)
        for row, time in kept
    ]


def _fill(
    matrix: list[list], effort: list[list], occasions: list[tuple[int, int]], options: Options
) -> list[list[int | None]]:
    history = [[None if value is None else 0 for value in values] for values in effort]
    counts = Counter(occasions)
    for (row, occasion), count in counts.items():
        history[row][occasion - 1] = 1 if options.output == "binary" else count
    # NA where the operation (one-day occasions) or the effort is NA, or 0 unless scaled.
    basis = matrix if options.occasion_length == 1 else effort
    for values, known in zip(history, basis, strict=True):
        for n, value in enumerate(known):
            if value is None or (value == 0 and not options.scale_effort):
                values[n] = None
    return history
