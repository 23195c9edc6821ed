"""The read side of the JSON API (/api/v1/): what scripts may fetch, with the same rules as
the pages. Every list starts from an access.py queryset, sightings are narrowed by the
browser's SightingFilter, and coordinates come only through access.place(), so another
team's protected station is on the grid here too."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import serializers, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.pagination import CursorPagination
from rest_framework.routers import DefaultRouter

from sightings import access
from sightings.filters import SightingFilter
from sightings.models import Deployment, Location, Media, Sighting, Species


class Cursor(CursorPagination):
    # By id: unique and indexed, so a cursor stays valid while records are added.
    ordering = "pk"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class PlaceField(serializers.Field):
    """A station's coordinates as the requesting viewer may know them."""

    def __init__(self, **kwargs) -> None:
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, location: Location) -> dict:
        place = access.place(access.viewer(self.context["request"]), location)
        return {
            "latitude": place.latitude,
            "longitude": place.longitude,
            "generalised": place.generalised,
        }


class SpeciesSerializer(serializers.ModelSerializer):
    class Meta:
        model = Species
        fields = ["id", "kind", "scientific_name", "code", "rank", "name_en", "name_zh",
                  "name_ru", "iucn_status", "is_sensitive"]  # fmt: skip


class LocationSerializer(serializers.ModelSerializer):
    place = PlaceField(source="*")

    class Meta:
        model = Location
        fields = ["id", "name", "team", "country", "place"]


class DeploymentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Deployment
        fields = ["id", "location", "camera_make", "camera_model", "start_at", "end_at",
                  "time_zone", "clock_correction_seconds", "event_gap_seconds"]  # fmt: skip


class SightingSerializer(serializers.ModelSerializer):
    deployment = serializers.IntegerField(source="event.deployment_id", read_only=True)
    individual = serializers.SlugRelatedField(slug_field="code", read_only=True)
    place = PlaceField(source="location")

    class Meta:
        model = Sighting
        fields = ["id", "event", "deployment", "location", "place", "species", "count", "sex",
                  "life_stage", "behaviour", "individual", "classification_method",
                  "review_status", "is_independent", "observed_at", "local_date"]  # fmt: skip


class MediaSerializer(serializers.ModelSerializer):
    class Meta:
        model = Media
        # No file names, folders or GPS: a file's own position could give away a
        # protected station (access.image_place decides that, on the media page).
        fields = ["id", "deployment", "event", "format", "state", "captured_at", "width",
                  "height", "make", "model"]  # fmt: skip


class SpeciesViewSet(viewsets.ReadOnlyModelViewSet):
    # The catalogue is the same for everyone who is signed in.
    pagination_class = Cursor
    queryset = Species.objects.all()
    serializer_class = SpeciesSerializer


class LocationViewSet(viewsets.ReadOnlyModelViewSet):
    pagination_class = Cursor
    serializer_class = LocationSerializer

    def get_queryset(self) -> QuerySet[Location]:
        return access.locations(access.viewer(self.request))


class DeploymentViewSet(viewsets.ReadOnlyModelViewSet):
    pagination_class = Cursor
    serializer_class = DeploymentSerializer

    def get_queryset(self) -> QuerySet[Deployment]:
        return access.shared_deployments(access.viewer(self.request))


class SightingViewSet(viewsets.ReadOnlyModelViewSet):
    pagination_class = Cursor
    serializer_class = SightingSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = SightingFilter

    def get_queryset(self) -> QuerySet[Sighting]:
        visible = access.sightings(access.viewer(self.request))
        return visible.select_related("event", "location", "individual")


class MediaViewSet(viewsets.ReadOnlyModelViewSet):
    pagination_class = Cursor
    serializer_class = MediaSerializer

    def get_queryset(self) -> QuerySet[Media]:
        return access.media(access.viewer(self.request))


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    """The user's one API token: made, replaced or revoked here."""
    if request.method == "POST":
        Token.objects.filter(user=request.user).delete()
        if request.POST.get("action") == "make":
            Token.objects.create(user=request.user)
            messages.success(request, _("Your new token is below. The old one no longer works."))
        else:
            messages.success(request, _("Your token is revoked."))
        return redirect("sightings:api_tokens")
    token = Token.objects.filter(user=request.user).first()
    return render(request, "sightings/api_tokens.html", {"token": token})


router = DefaultRouter()
router.register("species", SpeciesViewSet, basename="api-species")
router.register("locations", LocationViewSet, basename="api-location")
router.register("deployments", DeploymentViewSet, basename="api-deployment")
router.register("sightings", SightingViewSet, basename="api-sighting")
router.register("media", MediaViewSet, basename="api-media")
urlpatterns = router.urls
