"""The survey page and its downloads: camtrapR's surveyReport() tables for a filtered set of
sightings, its relative abundance on a map, and the camera operation and a detection
history as CSV, for camtrapR and unmarked in R.

The data: what the viewer may see (access.sightings; the stations through
effort.filtered_operation, from access.shared_deployments), narrowed by the browser's
filters (filters.SightingFilter). The options are those of the camera_operation,
survey_report and detection_history commands, with their defaults and checks; effort.py,
survey.py and occupancy.py compute, for the commands and this page alike, so a download
equals the command's file for the same filters byte for byte.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import orjson
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from sightings import access, effort, exports, occupancy, survey
from sightings.browsing import chips
from sightings.filters import SightingFilter
from sightings.forms import HistoryForm, SurveyForm
from sightings.models import Species

# The page shows this many rows of each table; the CSV has them all.
SHOWN_ROWS = 500


@dataclass
class Survey:
    """What the page asked for and what came of it."""

    filterset: SightingFilter
    form: SurveyForm
    history_form: HistoryForm
    viewer: access.Viewer
    cameras: list[effort.Camera] = field(default_factory=list)
    operation: effort.Operation | None = None
    found: list[survey.Events] = field(default_factory=list)
    events: list[list[str]] = field(default_factory=list)  # survey.event_rows, with header
    note: str = ""  # why there is no report for a good query
    history: occupancy.History | None = None
    history_error: str = ""

    @property
    def valid(self) -> bool:
        """Whether the query is good (a bad one is answered 400)."""
        if self.history_asked and not (self.history_form.is_valid() and not self.history_error):
            return False
        return self.filterset.is_valid() and self.form.is_valid()

    @property
    def history_asked(self) -> bool:
        return self.history_form.is_bound


def _asked(request: HttpRequest, history: bool) -> Survey:
    """The filters and options in the query, not yet worked out."""
    viewer = access.viewer(request)
    filterset = SightingFilter(request.GET, queryset=access.sightings(viewer), request=request)
    if history:
        history_form = HistoryForm(request.GET)
    else:  # shown as the query left it, not checked
        given = {name: value for name, value in request.GET.dict().items() if value}
        history_form = HistoryForm(initial=HistoryForm.DEFAULTS | given)
    return Survey(filterset, SurveyForm(request.GET), history_form, viewer)


def _operation(asked: Survey, by_camera: bool = False) -> None:
    """The camera operation behind the filtered set, as the options ask (OperationError)."""
    options = asked.form.cleaned_data
    asked.cameras, asked.operation = effort.filtered_operation(
        asked.viewer, asked.filterset, with_problems=not options["no_problems"],
        start_hour=options["occasion_start_hour"], by_camera=by_camera,
        all_cams_on=options["all_cams_on"], cameras_independent=options["cameras_independent"],
    )  # fmt: skip


def _report(request: HttpRequest, history: bool = False) -> Survey:
    """The survey report of the filtered set, and its detection history if asked."""
    asked = _asked(request, history)
    if not (asked.filterset.is_valid() and asked.form.is_valid()):
        return asked
    try:
        _operation(asked)
        asked.found = survey.events(asked.filterset.qs, asked.form.cleaned_data["min_delta"])
        asked.events = list(survey.event_rows(asked.operation, asked.found))
    except effort.OperationError as error:
        asked.note = str(error)
        asked.operation = None
        return asked
    if asked.history_asked and asked.history_form.is_valid():
        try:
            asked.history = _history(asked)
        except occupancy.HistoryError as error:
            asked.history_error = str(error)
    return asked


def _history(asked: Survey) -> occupancy.History:
    chosen = asked.history_form.cleaned_data
    options = occupancy.Options(
        occasion_length=chosen["occasion_length"], day1=occupancy.day1(chosen["day1"]),
        output=chosen["output"], include_effort=chosen["include_effort"],
        scale_effort=chosen["scale_effort"], min_active_days=chosen["min_active_days"],
        buffer=chosen["buffer"], max_days=chosen["max_days"],
    )  # fmt: skip
    return occupancy.filtered_history(
        asked.operation, asked.filterset.qs, chosen["history_species"], options,
        asked.form.cleaned_data["min_delta"],
    )  # fmt: skip


@login_required
def survey_page(request: HttpRequest) -> HttpResponse:
    asked = _report(request, history=HistoryForm.asked(request.GET))
    names = {species.record_name: species for species in Species.objects.all()}
    context = {
        "filter": asked.filterset,
        "chips": chips(request, asked.filterset),
        "survey": asked,
        "query": request.GET.urlencode(),
        "event_rows": [_shown(row, names) for row in asked.events[1 : SHOWN_ROWS + 1]],
        "event_count": max(0, len(asked.events) - 1),
        "station_rows": _station_rows(asked),
        "station_count": len(asked.operation.rows) if asked.operation else 0,
        "shown_rows": SHOWN_ROWS,
        "map_species": _map_species(asked, names),
        "totals": _totals(asked),
        "tile_url": settings.MAP_TILE_URL,
        "tile_attribution": settings.MAP_TILE_ATTRIBUTION,
    }
    return render(request, "sightings/survey.html", context, status=200 if asked.valid else 400)


def _number(cell: str) -> float | None:
    return None if cell == "NA" else float(cell)


def _shown(row: list[str], names: dict[str, Species]) -> dict:
    """A row of the events table as the page shows it."""
    station, species, count, nights, rai = row
    return {
        "station": station, "species": names.get(species), "record_name": species,
        "count": int(count), "nights": _number(nights), "rai": _number(rai),
    }  # fmt: skip


def _station_rows(asked: Survey) -> list[list]:
    if asked.operation is None:
        return []
    rows = survey.station_rows(asked.operation, asked.cameras, asked.found)
    next(rows)  # the header: the page has its own, translated
    shown = []
    for row in rows:
        shown.append([None if cell == "NA" else cell for cell in row[:9]] + [_number(row[9])])
        if len(shown) == SHOWN_ROWS:
            break
    return shown


def _map_species(asked: Survey, names: dict[str, Species]) -> list[tuple[str, str, bool]]:
    """(record name, label, chosen) of each species detected, the most detected first;
    chosen: the detection history's species, else the first."""
    totals: Counter[str] = Counter()
    for item in asked.found:
        totals[item.species] += item.count
    ordered = sorted(totals, key=lambda name: (-totals[name], name))
    wanted = asked.history_form.data.get("history_species") if asked.history_asked else None
    chosen = next((n for n in ordered if names.get(n) and str(names[n].pk) == wanted), None)
    chosen = chosen or (ordered[0] if ordered else None)
    return [(n, names[n].label() if n in names else n, n == chosen) for n in ordered]


def _totals(asked: Survey) -> dict:
    if asked.operation is None:
        return {}
    return {
        "stations": len(asked.operation.rows),
        "detections": sum(item.count for item in asked.found),
        "trap_nights": sum(survey.trap_nights(row.values) for row in asked.operation.rows),
    }


# The map


@login_required
def survey_map(request: HttpRequest) -> HttpResponse:
    """Each station of the report as a point, at its place as the viewer may know it, with
    its trap nights and, per species, independent detections and RAI."""
    asked = _report(request)
    if not asked.valid:
        return _bad_query(asked)
    rows = asked.operation.rows if asked.operation else []
    places = access.places(asked.viewer, {row.location_id for row in rows})
    counts = {(item.location_id, item.species): item.count for item in asked.found}
    species = sorted({item.species for item in asked.found})
    features = []
    for row in rows:
        place = places.get(row.location_id)
        if place is None or place.latitude is None or place.longitude is None:
            continue
        nights = survey.trap_nights(row.values)
        detections = {name: counts.get((row.location_id, name), 0) for name in species}
        features.append({
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [place.longitude, place.latitude]},
            "properties": {
                "name": row.station, "generalised": place.generalised, "trap_nights": nights,
                "detections": detections,
                "rai": {name: survey.rai(n, nights) for name, n in detections.items()},
            },
        })  # fmt: skip
    collection = {
        "type": "FeatureCollection", "features": features,
        "summary": _map_summary(len(features), len(rows) - len(features)),
    }  # fmt: skip
    return HttpResponse(orjson.dumps(collection), content_type="application/json")


def _map_summary(shown: int, left_out: int) -> str:
    text = ngettext("%(count)s station on the map", "%(count)s stations on the map", shown) % {
        "count": number_format(shown, force_grouping=True)
    }
    if left_out:
        text += " · " + ngettext(
            "%(count)s station without coordinates is not on it",
            "%(count)s stations without coordinates are not on it",
            left_out,
        ) % {"count": number_format(left_out, force_grouping=True)}
    return text


# The downloads: the commands' files


def _bad_query(asked: Survey) -> JsonResponse:
    errors = {}
    for form in (asked.filterset.form, asked.form, asked.history_form):
        if form.is_bound and not form.is_valid():
            errors.update(form.errors)
    message = asked.note or asked.history_error
    if message:
        errors["__all__"] = [message]
    return JsonResponse({"errors": errors}, status=400)


def _csv(rows: Iterable[list[str]], name: str) -> StreamingHttpResponse:
    # No byte-order mark: the files are for R, whose read.csv would take it into the first
    # column's name, and are the commands' files byte for byte.
    lines = exports.csv_lines(rows)
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
def survey_download(request: HttpRequest, table: str) -> HttpResponse:
    """One table as CSV: report (survey_report --out), stations (--dates-out), camop
    (camera_operation --out), history and effort (detection_history --out, --effort-out)."""
    if table == "camop":
        return _camera_operation(request)
    asked = _report(request, history=table in ("history", "effort"))
    if asked.note or not asked.valid:
        return _bad_query(asked)
    if table == "report":
        return _csv(asked.events, "survey_report.csv")
    if table == "stations":
        rows = survey.station_rows(asked.operation, asked.cameras, asked.found)
        return _csv(rows, "stations.csv")
    history = asked.history
    if table == "effort":
        if history.effort is None:
            asked.history_error = _("The effort comes with the detection history only when it "
                                    "is included.")  # fmt: skip
            return _bad_query(asked)
        return _csv(history.table(history.effort), "effort.csv")
    return _csv(history.table(history.detections), "detection_history.csv")


def _camera_operation(request: HttpRequest) -> HttpResponse:
    asked = _asked(request, history=False)
    if not asked.valid:
        return _bad_query(asked)
    try:
        _operation(asked, by_camera=asked.form.cleaned_data["by_camera"])
    except effort.OperationError as error:
        asked.note = str(error)
        return _bad_query(asked)
    return _csv(effort.table(asked.operation), "camop.csv")
