"""The daily activity page and its downloads: kernel densities of independent detections'
local times, and the overlap of two species, or of one species in two countries.

The data: what the viewer may see (access.sightings), narrowed by the browser's filters
(filters.SightingFilter), independent detections only; the groups to compare are the
filters' species (one or two), or their one species in their two countries. activity.py
computes, activity_chart.py draws.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.formats import number_format
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from sightings import access, activity, activity_chart, exports
from sightings.browsing import chips, query_without
from sightings.filters import SightingFilter
from sightings.forms import ActivityForm
from sightings.models import Country, Sighting, Species

HOURS_PER_RADIAN = 24 / activity.TWO_PI
GRID = activity.grid()  # densityPlot's and overlapPlot's 128 points, 0 to 2π


@dataclass(frozen=True)
class Detection:
    sighting_id: int
    species: Species
    country: str
    local_date: dt.date
    local_minute: int
    radians: float | None  # clock or sun time; None: no sun time can be worked out


@dataclass
class Group:
    label: str
    detections: list[Detection] = field(default_factory=list)
    bandwidth: float | None = None  # set where a density can be drawn

    @property
    def times(self) -> list[float]:
        return [d.radians for d in self.detections if d.radians is not None]

    @property
    def left_out(self) -> int:
        return sum(d.radians is None for d in self.detections)


@dataclass
class Analysis:
    groups: list[Group] = field(default_factory=list)
    charts: dict[str, activity_chart.Chart] = field(default_factory=dict)
    overlap: activity.Overlap | None = None
    notes: list[str] = field(default_factory=list)  # why something is not drawn


class NotComparable(Exception):
    """The filters do not name one or two groups to draw; the message says what to choose."""


def _analysis(
    request: HttpRequest,
) -> tuple[SightingFilter, ActivityForm, Analysis | None]:
    """The filters, the comparison asked for, and its analysis (None if the query is bad)."""
    viewer = access.viewer(request)
    filterset = SightingFilter(request.GET, queryset=access.sightings(viewer), request=request)
    asked = {name: request.GET.get(name) or value for name, value in ActivityForm.DEFAULTS.items()}
    form = ActivityForm(asked)
    if not (filterset.is_valid() and form.is_valid()):
        return filterset, form, None
    try:
        groups = _groups(filterset, form.cleaned_data["compare"])
    except NotComparable as refused:
        return filterset, form, Analysis(notes=[str(refused)])
    sun = form.cleaned_data["time"] == "sun"
    return filterset, form, _analyse(_detections(groups, filterset.qs, viewer, sun), sun)


def _groups(filterset: SightingFilter, compare: str) -> list[tuple[Species, str | None, str]]:
    """(species, country or None, label) of each group the filters name."""
    species = list(filterset.form.cleaned_data.get("species") or [])
    chosen = set(filterset.form.cleaned_data.get("country") or [])
    countries = [(code, label) for code, label in Country.choices if code in chosen]
    if compare == "countries":
        if len(species) != 1:
            raise NotComparable(_("Choose one species to compare between countries."))
        if len(countries) != 2:
            raise NotComparable(_("Choose two countries to compare, for example China and Russia."))
        return [
            (species[0], code, _("%(species)s in %(country)s")
             % {"species": species[0].common_name, "country": label})
            for code, label in countries
        ]  # fmt: skip
    if not species:
        raise NotComparable(_("Choose a species in the filters, or two species to compare."))
    if len(species) > 2:
        raise NotComparable(_("Choose at most two species to compare."))
    return [(one, None, one.common_name) for one in species]


def _detections(
    asked: list[tuple[Species, str | None, str]],
    sightings: QuerySet[Sighting],
    viewer: access.Viewer,
    sun: bool,
) -> list[Group]:
    """Each group's independent detections, with their clock or sun times."""
    rows = list(
        sightings.filter(is_independent=True, species__in=[entry[0] for entry in asked])
        .order_by("observed_at", "pk")
        .values_list(
            "pk", "species_id", "location__country", "location_id", "local_date",
            "local_minute", "observed_at",
        )
    )  # fmt: skip
    # Sun time from the station's place as this viewer may know it: a protected station's
    # grid cell moves sunrise by well under a minute, and no exact place is ever used.
    places = access.places(viewer, {row[3] for row in rows}) if sun else {}
    groups = []
    for species, country, label in asked:
        group = Group(label)
        for pk, species_id, station_country, location, day, minute, observed_at in rows:
            if species_id == species.pk and country in (None, station_country):
                radians = activity.clock_radians(minute)
                if sun:
                    radians = _sun_time(radians, day, minute, observed_at, places.get(location))
                group.detections.append(
                    Detection(pk, species, station_country, day, minute, radians)
                )
        groups.append(group)
    return groups


def _sun_time(
    clock: float, day: dt.date, minute: int, observed_at: dt.datetime, place: access.Place | None
) -> float | None:
    if place is None or place.latitude is None or place.longitude is None:
        return None
    # The clock's offset from UTC that day, from the instant and its local time (whole
    # minutes: local_minute is the instant's local minute, cut, not rounded).
    local = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=minute)
    utc = observed_at.astimezone(dt.UTC).replace(tzinfo=None, second=0, microsecond=0)
    offset_hours = (local - utc).total_seconds() / 3600
    sun = activity.sun_time(clock, day, offset_hours, place.latitude, place.longitude)
    if sun is None:
        return None
    # Kept to the minute, as clock times are: no finer than the data, and a density then
    # costs at most 1,440 kernels a point (activity.density), however many detections.
    return activity.clock_radians(round(sun / activity.TWO_PI * 1440) % 1440)


def _analyse(groups: list[Group], sun: bool) -> Analysis:
    """The charts that can be drawn, the overlap where two groups can be, and why not."""
    analysis = Analysis(groups=groups)
    x_label = (
        _("Sun time (hours): sunrise at 6:00, sunset at 18:00")
        if sun
        else _("Local time of day (hours)")
    )
    for index, group in enumerate(groups):
        reason = _not_drawn(group)
        if reason:
            analysis.notes.append(reason)
        else:
            analysis.charts[str(index)] = _density_chart(group, x_label)
    left_out = sum(group.left_out for group in groups)
    if left_out:
        analysis.notes.append(ngettext(
            "%(count)s detection is left out: its station has no coordinates, or the sun "
            "did not rise or set that day.",
            "%(count)s detections are left out: their stations have no coordinates, or the "
            "sun did not rise or set those days.",
            left_out,
        ) % {"count": number_format(left_out, force_grouping=True)})  # fmt: skip
    drawn = [group for group in groups if group.bandwidth is not None]
    if len(groups) == 2 and len(drawn) == 1:
        analysis.notes.append(
            _("Only %(group)s can be drawn here: there is nothing to compare it with.")
            % {"group": drawn[0].label}
        )
    if len(drawn) == 2:
        analysis.overlap = activity.overlap(drawn[0].times, drawn[1].times)
        if analysis.overlap is not None:
            analysis.charts["overlap"] = _overlap_chart(*drawn, analysis.overlap, x_label)
    return analysis


def _not_drawn(group: Group) -> str:
    """Why a group's density cannot be drawn ("" if it can); sets its bandwidth if it can."""
    times = group.times
    if not group.detections:
        return _("No independent detections of %(group)s match these filters.") % {
            "group": group.label
        }
    if not activity.can_fit(times):
        return _(
            "Too few independent detections of %(group)s to draw its activity: at least two "
            "different times are needed."
        ) % {"group": group.label}
    group.bandwidth = activity.bandwidth(times)
    if group.bandwidth is None:
        return _("The activity of %(group)s cannot be estimated from these times.") % {
            "group": group.label
        }
    return ""


def _curve(group: Group) -> activity_chart.Curve:
    """overlap's densityPlot curve: adjust 1, 128 points, density per hour."""
    times = group.times
    per_hour = [
        value / HOURS_PER_RADIAN for value in activity.density(times, GRID, group.bandwidth)
    ]
    return activity_chart.Curve(group.label, per_hour, [t * HOURS_PER_RADIAN for t in times])


def _density_chart(group: Group, x_label: str) -> activity_chart.Chart:
    count = len(group.times)
    return activity_chart.Chart(
        title=_("Activity of %(group)s") % {"group": group.label},
        subtitle=_independent_detections(count),
        x_label=x_label,
        y_label=_("Density"),
        hours=[t * HOURS_PER_RADIAN for t in GRID],
        curves=[_curve(group)],
        bars=[hourly / count for hourly in activity.hourly_counts(group.times)],
    )


def _overlap_chart(
    a: Group, b: Group, overlap: activity.Overlap, x_label: str
) -> activity_chart.Chart:
    subtitle = _(
        "Coefficient of overlapping %(estimator)s = %(value)s · independent detections: "
        "%(a)s / %(b)s"
    ) % {
        "estimator": overlap.estimator,
        # Rounded as camtrapR shows it (round(, 2)); number_format alone would cut.
        "value": number_format(round(overlap.value, 2), 2),
        "a": number_format(len(a.times), force_grouping=True),
        "b": number_format(len(b.times), force_grouping=True),
    }  # fmt: skip
    return activity_chart.Chart(
        title=_("Activity overlap: %(a)s and %(b)s") % {"a": a.label, "b": b.label},
        subtitle=subtitle,
        x_label=x_label,
        y_label=_("Density"),
        hours=[t * HOURS_PER_RADIAN for t in GRID],
        curves=[_curve(a), _curve(b)],
        shade_overlap=True,
    )


def _independent_detections(count: int) -> str:
    return ngettext(
        "%(count)s independent detection", "%(count)s independent detections", count
    ) % {"count": number_format(count, force_grouping=True)}


def _bad_query(filterset: SightingFilter, form: ActivityForm) -> JsonResponse:
    errors = {**(filterset.errors if not filterset.is_valid() else {}), **form.errors}
    return JsonResponse({"errors": errors}, status=400)


@login_required
def activity_page(request: HttpRequest) -> HttpResponse:
    filterset, form, analysis = _analysis(request)
    context = {
        "filter": filterset,
        "chips": chips(request, filterset),
        "activity_form": form,
        "analysis": analysis,
        "figures": _figures(analysis) if analysis is not None else [],
        "query": query_without(request, "chart"),
    }
    status = 200 if analysis is not None else 400
    return render(request, "sightings/activity.html", context, status=status)


def _figures(analysis: Analysis) -> list[tuple[str, Group | None, str]]:
    """(chart name, its group or None for the overlap, the chart as inline SVG), in the
    page's order: the overlap first."""
    figures = []
    for name, group in [("overlap", None), *((str(i), g) for i, g in enumerate(analysis.groups))]:
        if name in analysis.charts:
            # Our own drawing, every text in it escaped by activity_chart.svg.
            drawing = mark_safe(activity_chart.svg(analysis.charts[name], f"activity-{name}"))
            figures.append((name, group, drawing))
    return figures


@login_required
def activity_figure(request: HttpRequest, kind: str) -> HttpResponse:
    """One chart of the page as an SVG or PNG file (?chart=overlap, 0 or 1)."""
    filterset, form, analysis = _analysis(request)
    if analysis is None:
        return _bad_query(filterset, form)
    name = request.GET.get("chart", "")
    if name not in analysis.charts:
        raise Http404
    chart = analysis.charts[name]
    if kind == "png":
        response = HttpResponse(activity_chart.png(chart), content_type="image/png")
    else:
        response = HttpResponse(activity_chart.svg(chart), content_type="image/svg+xml")
    response["Content-Disposition"] = f'attachment; filename="activity-{name}.{kind}"'
    return response


@login_required
def activity_times(request: HttpRequest) -> HttpResponse:
    """Every detection of the page's groups with its times: for R (overlap, camtrapR)."""
    filterset, form, analysis = _analysis(request)
    if analysis is None:
        return _bad_query(filterset, form)
    sun = form.cleaned_data["time"] == "sun"
    response = StreamingHttpResponse(
        exports.csv_lines(_time_rows(analysis.groups, sun), bom=True),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="activity.csv"'
    return response


def _time_rows(groups: list[Group], sun: bool) -> Iterator[list]:
    header = ["group", "sighting_id", "species", "country", "local_date", "local_time",
              "clock_time_radians"]  # fmt: skip
    yield (header + ["sun_time_radians"]) if sun else header
    for group in groups:
        for d in group.detections:
            row = [
                group.label, d.sighting_id, d.species.record_name, d.country,
                d.local_date.isoformat(), f"{d.local_minute // 60:02d}:{d.local_minute % 60:02d}",
                repr(activity.clock_radians(d.local_minute)),
            ]  # fmt: skip
            if sun:
                row.append("" if d.radians is None else repr(d.radians))
            yield row
