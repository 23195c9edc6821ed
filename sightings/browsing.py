"""The shared sighting browser: every team's pooled records, filtered, mapped, exported."""

from __future__ import annotations

import orjson
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sightings import access, classification, exports, paging
from sightings.access import Action
from sightings.filters import SightingFilter
from sightings.forms import ReviewForm
from sightings.models import (
    Country,
    Location,
    Media,
    Sighting,
    Species,
    Team,
)

PAGE_SIZE = 50
# Counting every species at every point costs most of the GeoJSON's time at a million
# sightings; past this many points a point's species are fetched when it is opened.
SPECIES_COUNTS_UP_TO = 5_000


def _filtered(request: HttpRequest) -> tuple[SightingFilter, QuerySet[Sighting]]:
    """The sightings this user may see, narrowed by the filters in the URL (none at all if
    the filters are not valid: the views answer those with 400)."""
    visible = access.sightings(access.viewer(request))
    filterset = SightingFilter(request.GET, queryset=visible, request=request)
    return filterset, filterset.qs if filterset.is_valid() else visible.none()


def _bad_query(filterset: SightingFilter) -> JsonResponse:
    return JsonResponse({"errors": filterset.errors}, status=400)


def chips(request: HttpRequest, filterset: SightingFilter) -> list[tuple[str, str]]:
    """Every filter in force as (label, query without it); a multiple choice gives a chip per
    value, so each can be dropped alone."""
    if not filterset.is_valid():
        return []
    form, chosen = filterset.form, filterset.form.cleaned_data
    found = []
    for name, field in form.fields.items():
        value = chosen.get(name)
        if name in RANGES:
            if value is not None or chosen.get(RANGES[name]) is not None:
                found.append(_range_chip(request, form, name, RANGES[name]))
        elif name in RANGES.values() or not value:
            continue  # a range's second end is in its first end's chip
        elif isinstance(field, forms.MultipleChoiceField | forms.ModelMultipleChoiceField):
            found += [_value_chip(request, field, name, one) for one in value]
        elif isinstance(field, forms.BooleanField):
            found.append((str(field.label), query_without(request, name)))
        else:
            found.append((f"{field.label}: {value}", query_without(request, name)))
    return found


# Filters shown as one chip for both ends: the first names the second.
RANGES = {"date_from": "date_to", "time_from": "time_to"}


def _range_chip(request: HttpRequest, form, first: str, second: str) -> tuple[str, str]:
    start, end = form.cleaned_data.get(first), form.cleaned_data.get(second)
    label = _("Local dates") if first == "date_from" else _("Time of day")
    shown = "–".join(str(v) if v is not None else "…" for v in (start, end))
    return f"{label}: {shown}", query_without(request, first, second)


def _value_chip(request: HttpRequest, field, name: str, value) -> tuple[str, str]:
    raw = str(value.pk) if hasattr(value, "pk") else str(value)
    shown = value if hasattr(value, "pk") else dict(field.choices).get(value, value)
    query = request.GET.copy()
    query.setlist(name, [v for v in query.getlist(name) if v != raw])
    return f"{field.label}: {shown}", query.urlencode()


def query_without(request: HttpRequest, *names: str) -> str:
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


@login_required
def browse(request: HttpRequest) -> HttpResponse:
    filterset, results = _filtered(request)
    order = request.GET.get("sort", "-time")
    if order == "species":  # sightings not named yet have no species to sort by
        results = results.exclude(species=None)
    grid = request.GET.get("view") == "grid"
    rows = results.select_related("species", "individual", "location__team", "event__deployment")
    if grid:
        first = Media.objects.filter(event=OuterRef("event")).order_by("captured_at", "pk")
        rows = rows.annotate(first_media=Subquery(first.values("pk")[:1]))
    bad_page = False
    try:
        page = paging.page(
            rows, order, PAGE_SIZE, request.GET.get("after", ""), request.GET.get("before", "")
        )
    except paging.BadCursor:
        page, bad_page = paging.Page([], None, None), True
    places = access.places(access.viewer(request), {s.location_id for s in page.rows})
    filters_only = query_without(request, "after", "before", "sort", "view")
    context = {
        "filter": filterset,
        "chips": chips(request, filterset),
        "rows": [(s, places[s.location_id]) for s in page.rows],
        "page": page,
        # Counted by a second request (count below): the page need not wait for it.
        "count_url": f"{reverse('sightings:count')}?{filters_only}",
        "order": order,
        "grid": grid,
        "query": query_without(request, "after", "before"),
        "filters_only": filters_only,
        "bad_page": bad_page,
    }
    valid = filterset.is_valid() and not bad_page
    return render(request, "sightings/browse.html", context, status=200 if valid else 400)


@login_required
def count(request: HttpRequest) -> JsonResponse:
    """How many sightings the filters find, for the browser's page to show."""
    filterset, results = _filtered(request)
    if not filterset.is_valid():
        return _bad_query(filterset)
    found = results.order_by().count()
    return JsonResponse({"count": found, "label": _sightings(found)})


def _sightings(count: int) -> str:
    """ "1 sighting", "65 sightings": the count in the reader's plural forms."""
    return ngettext("%(count)s sighting", "%(count)s sightings", count) % {
        "count": number_format(count, force_grouping=True)
    }


@login_required
def export_csv(request: HttpRequest) -> HttpResponse:
    filterset, results = _filtered(request)
    if not filterset.is_valid():
        return _bad_query(filterset)
    places = access.places(access.viewer(request))
    rows = exports.sighting_rows(results, places, get_language() or "en")
    # Opened in Excel more than anywhere: with the byte-order mark it reads UTF-8.
    response = StreamingHttpResponse(
        exports.csv_lines(rows, bom=True), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="sightings.csv"'
    return response


@login_required
def map_page(request: HttpRequest) -> HttpResponse:
    filterset = _filtered(request)[0]
    context = {
        "filter": filterset,
        "chips": chips(request, filterset),
        "query": query_without(request, "after", "before", "sort", "view"),
        "tile_url": settings.MAP_TILE_URL,
        "tile_attribution": settings.MAP_TILE_ATTRIBUTION,
    }
    status = 200 if filterset.is_valid() else 400
    return render(request, "sightings/map.html", context, status=status)


@login_required
def geojson(request: HttpRequest) -> HttpResponse:
    """The filtered sightings as points, one per location, with counts per species.

    Each point's "species_counts" reads "12:30,5:20": species 12 seen 30 times, species 5
    20 times (0: not named yet); the collection's "species" gives the names. Over more than
    SPECIES_COUNTS_UP_TO locations, points carry their total only, and the map asks for a
    point's species when it is opened (the same filters plus location=ID).
    """
    filterset, results = _filtered(request)
    if not filterset.is_valid():
        return _bad_query(filterset)
    totals = dict(results.order_by().values_list("location_id").annotate(n=Count("*")))
    by_species = len(totals) <= SPECIES_COUNTS_UP_TO
    counts = _counts_per_location(results) if by_species else {}
    countries = {code: str(label) for code, label in Country.choices}
    places = access.places(access.viewer(request), totals)
    link = f"{reverse('sightings:browse')}?{query_without(request, 'location')}&location="
    link = link.replace("?&", "?")
    # Every station, in one pass: fewer than the sightings by far, and cheaper to read than
    # to pick out by tens of thousands of ids.
    stations = Location.objects.order_by().values_list("pk", "name", "team_id", "country")
    teams = dict(Team.objects.values_list("pk", "name"))
    features = []
    for pk, name, team, country in stations.iterator(chunk_size=10_000):
        place = places.get(pk)
        if place is None or place.latitude is None or place.longitude is None:
            continue
        features.append({
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [place.longitude, place.latitude]},
            "properties": {
                "id": pk, "name": name, "team": teams[team], "country": countries[country],
                "generalised": place.generalised, "count": totals[pk],
                "species_counts": counts.get(pk), "url": f"{link}{pk}",
            },
        })  # fmt: skip
    names = {str(s.pk): s.common_name for s in Species.objects.all()} | {"0": _("not named yet")}
    points = ngettext("%(count)s location", "%(count)s locations", len(features)) % {
        "count": number_format(len(features), force_grouping=True)
    }
    # What the map says under it, in the reader's plural forms (GeoJSON allows own members).
    summary = f"{points} · {_sightings(sum(totals[f['properties']['id']] for f in features))}"
    collection = {
        "type": "FeatureCollection", "species": names, "features": features, "summary": summary,
    }  # fmt: skip
    # orjson: the standard encoder spent a fifth of this view's time on 50,000 points.
    return HttpResponse(orjson.dumps(collection), content_type="application/json")


def _counts_per_location(results: QuerySet[Sighting]) -> dict[int, str]:
    """location -> "species:count,...", counted and joined by the database.

    A million sightings make half a million (location, species) counts: joined into one row
    per location by the database, they cost a tenth of what they would as rows in Python.
    """
    inner = results.order_by().values_list("location_id", "species_id").annotate(n=Count("pk"))
    sql, params = inner.query.sql_with_params()
    pair = "COALESCE(species_id, 0) || ':' || n"
    joined = (
        f"STRING_AGG({pair}, ',')"
        if connection.vendor == "postgresql"
        else f"GROUP_CONCAT({pair}, ',')"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT location_id, {joined} FROM ({sql}) AS counts GROUP BY location_id", params
        )
        return dict(cursor.fetchall())


@login_required
def sighting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    sighting = access.get_sighting_for_user(request, pk)
    viewer = access.viewer(request)
    team = sighting.location.team_id
    deployment = sighting.event.deployment
    others = access.sightings(viewer).filter(event=sighting.event_id).exclude(pk=sighting.pk)
    context = {
        "sighting": sighting,
        "media": list(sighting.event.media.order_by("captured_at", "pk")),
        "others": others.select_related("species"),
        "place": access.place(viewer, sighting.location),
        "zone": deployment.time_zone or "UTC",
        "history": classification.history(sighting),
        "can_review": viewer.may(Action.REVIEW, team),
        "can_name": viewer.may(Action.NAME, team),
        "statuses": Sighting.Review.choices,
        "tile_url": settings.MAP_TILE_URL,
        "tile_attribution": settings.MAP_TILE_ATTRIBUTION,
    }
    return render(request, "sightings/sighting_detail.html", context)


@login_required
@require_POST
def review_sighting(request: HttpRequest, pk: int) -> HttpResponse:
    sighting = access.get_sighting_for_user(request, pk, Action.REVIEW)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("sightings:sighting_detail", sighting.pk)
    try:
        classification.review(
            sighting, form.cleaned_data["status"], request.user, form.cleaned_data["version"],
            form.cleaned_data["comment"],
        )  # fmt: skip
    except classification.Conflict:
        messages.error(
            request,
            _("This sighting was changed after you opened it: check it, then review it again."),
        )
    except classification.Refused as refused:
        messages.error(request, refused.message)
    return redirect("sightings:sighting_detail", sighting.pk)
