"""The shared sighting browser: every team's pooled records, filtered, mapped, exported."""

from __future__ import annotations

import orjson
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sightings import classification, exports, paging, protection
from sightings.filters import SightingFilter
from sightings.models import (
    Country,
    Deployment,
    Location,
    Media,
    Membership,
    Sighting,
    Species,
    Team,
)

PAGE_SIZE = 50
# Counting every species at every point costs most of the GeoJSON's time at a million
# sightings; past this many points a point's species are fetched when it is opened.
SPECIES_COUNTS_UP_TO = 5_000


def _filtered(request: HttpRequest) -> tuple[SightingFilter, QuerySet[Sighting]]:
    """The sightings this user may see, narrowed by the filters in the URL."""
    visible = Sighting.objects.visible_to(request.user)
    filterset = SightingFilter(request.GET, queryset=visible, request=request)
    return filterset, filterset.qs if filterset.is_valid() else visible.none()


def _chips(request: HttpRequest, filterset: SightingFilter) -> list[tuple[str, str]]:
    """The filters chosen by id (from links), by name, each with a link that drops it."""
    if not filterset.is_valid():
        return []
    chosen = filterset.form.cleaned_data
    chips = []
    for location in chosen.get("location") or []:
        query = request.GET.copy()
        query.setlist("location", [v for v in query.getlist("location") if v != str(location.pk)])
        chips.append((_("Location: %(name)s") % {"name": location}, query.urlencode()))
    for name, label in (
        ("deployment", _("Deployment: %(name)s")),
        ("individual", _("Individual: %(name)s")),
    ):
        if chosen.get(name):
            chips.append((label % {"name": chosen[name]}, _query_without(request, name)))
    return chips


def _query_without(request: HttpRequest, *names: str) -> str:
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
    page = paging.page(
        rows, order, PAGE_SIZE, request.GET.get("after", ""), request.GET.get("before", "")
    )
    protected = protection.protected_locations(request.user, {s.location_id for s in page.rows})
    filters_only = _query_without(request, "after", "before", "sort", "view")
    context = {
        "filter": filterset,
        "chips": _chips(request, filterset),
        "rows": [
            (s, protection.coordinates(s.location, protected), s.location_id in protected)
            for s in page.rows
        ],
        "page": page,
        # Counted by a second request (count below): the page need not wait for it.
        "count_url": f"{reverse('sightings:count')}?{filters_only}",
        "order": order,
        "grid": grid,
        "query": _query_without(request, "after", "before"),
        "filters_only": filters_only,
    }
    return render(request, "sightings/browse.html", context)


@login_required
def count(request: HttpRequest) -> JsonResponse:
    """How many sightings the filters find, for the browser's page to show."""
    return JsonResponse({"count": _filtered(request)[1].order_by().count()})


@login_required
def export_csv(request: HttpRequest) -> StreamingHttpResponse:
    results = _filtered(request)[1]
    protected = protection.protected_locations(request.user)
    rows = exports.sighting_rows(results, protected, get_language() or "en")
    response = StreamingHttpResponse(exports.csv_lines(rows), content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="sightings.csv"'
    return response


@login_required
def map_page(request: HttpRequest) -> HttpResponse:
    filterset = _filtered(request)[0]
    context = {
        "filter": filterset,
        "chips": _chips(request, filterset),
        "query": _query_without(request, "after", "before", "sort", "view"),
        "tile_url": settings.MAP_TILE_URL,
        "tile_attribution": settings.MAP_TILE_ATTRIBUTION,
    }
    return render(request, "sightings/map.html", context)


@login_required
def geojson(request: HttpRequest) -> HttpResponse:
    """The filtered sightings as points, one per location, with counts per species.

    Each point's "species_counts" reads "12:30,5:20": species 12 seen 30 times, species 5
    20 times (0: not named yet); the collection's "species" gives the names. Over more than
    SPECIES_COUNTS_UP_TO locations, points carry their total only, and the map asks for a
    point's species when it is opened (the same filters plus location=ID).
    """
    results = _filtered(request)[1]
    totals = dict(results.order_by().values_list("location_id").annotate(n=Count("*")))
    by_species = len(totals) <= SPECIES_COUNTS_UP_TO
    counts = _counts_per_location(results) if by_species else {}
    countries = {code: str(label) for code, label in Country.choices}
    protected = protection.protected_locations(request.user)
    link = f"{reverse('sightings:browse')}?{_query_without(request, 'location')}&location="
    link = link.replace("?&", "?")
    # Every station, in one pass: fewer than the sightings by far, and cheaper to read than
    # to pick out by tens of thousands of ids.
    stations = Location.objects.order_by().values_list(
        "pk", "name", "team_id", "country", "latitude", "longitude"
    )
    teams = dict(Team.objects.values_list("pk", "name"))
    features = []
    for pk, name, team, country, latitude, longitude in stations.iterator(chunk_size=10_000):
        if pk not in totals or latitude is None or longitude is None:
            continue
        if pk in protected:
            latitude, longitude = protection.generalised(latitude, longitude)
        features.append({
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [longitude, latitude]},
            "properties": {
                "id": pk, "name": name, "team": teams[team], "country": countries[country],
                "generalised": pk in protected, "count": totals[pk],
                "species_counts": counts.get(pk), "url": f"{link}{pk}",
            },
        })  # fmt: skip
    names = {str(s.pk): s.common_name for s in Species.objects.all()} | {"0": _("not named yet")}
    collection = {"type": "FeatureCollection", "species": names, "features": features}
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


def _get_sighting_for_user(request: HttpRequest, pk: int) -> Sighting:
    related = ("species", "individual", "location__team", "event__deployment", "classified_by")
    sighting = get_object_or_404(Sighting.objects.select_related(*related), pk=pk)
    if not Sighting.objects.visible_to(request.user).filter(pk=pk).exists():
        raise PermissionDenied
    return sighting


def _can_review(request: HttpRequest, sighting: Sighting) -> bool:
    roles = [Membership.Role.REVIEWER, Membership.Role.ADMIN]
    team = sighting.location.team_id
    return Membership.objects.filter(user=request.user, team=team, role__in=roles).exists()


@login_required
def sighting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    sighting = _get_sighting_for_user(request, pk)
    protected = protection.protected_locations(request.user, [sighting.location_id])
    latitude, longitude = protection.coordinates(sighting.location, protected)
    deployment = sighting.event.deployment
    context = {
        "sighting": sighting,
        "media": list(sighting.event.media.order_by("captured_at", "pk")),
        "others": sighting.event.sightings.exclude(pk=sighting.pk).select_related("species"),
        "latitude": latitude,
        "longitude": longitude,
        "generalised": sighting.location_id in protected,
        "zone": deployment.time_zone or "UTC",
        "history": sighting.changes.select_related("changed_by"),
        "can_review": _can_review(request, sighting),
        "can_name": Deployment.objects.annotatable_by(request.user)
        .filter(pk=deployment.pk)
        .exists(),
        "statuses": Sighting.Review.choices,
        "tile_url": settings.MAP_TILE_URL,
        "tile_attribution": settings.MAP_TILE_ATTRIBUTION,
    }
    return render(request, "sightings/sighting_detail.html", context)


@login_required
@require_POST
def review_sighting(request: HttpRequest, pk: int) -> HttpResponse:
    sighting = _get_sighting_for_user(request, pk)
    if not _can_review(request, sighting):
        raise PermissionDenied
    status = request.POST.get("status", "")
    if status not in Sighting.Review.values:
        messages.error(request, _("Choose a review status."))
    else:
        classification.review(
            sighting, status, request.user, request.POST.get("comment", "").strip()
        )
    return redirect("sightings:sighting_detail", sighting.pk)
