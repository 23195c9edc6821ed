"""The JSON API (/api/v1/): what scripts may fetch, and send, with the same rules as the
pages. Every list starts from an access.py queryset and is narrowed by a FilterSet of
filters.py (sightings: the browser's own SightingFilter); coordinates come only through
access.place() (serializers.py), so another team's protected station is on the grid here
too. Uploads go through the upload page's own code (ingest.receive). The schema and its
documentation page are generated from this module (drf-spectacular)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, inline_serializer
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import serializers, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import APIView

from sightings import access, filters, ingest
from sightings.access import Action
from sightings.forms import UploadForm
from sightings.models import Deployment, Individual, Location, Media, Sighting, Species, Team
from sightings.serializers import (
    DeploymentSerializer,
    IndividualSerializer,
    LocationSerializer,
    MediaSerializer,
    ReceivedSerializer,
    SightingSerializer,
    SpeciesSerializer,
    TeamSerializer,
)


class Cursor(CursorPagination):
    # By id: unique and indexed, so a cursor stays valid while records are added.
    ordering = "pk"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class ReadViewSet(viewsets.ReadOnlyModelViewSet):
    """A list and its objects: what visible() lets the requester see, narrowed by the
    filterset_class. The class's queryset only names the model, for the schema."""

    pagination_class = Cursor
    filter_backends = [DjangoFilterBackend]
    lookup_value_converter = "int"

    def get_queryset(self) -> QuerySet:
        # The schema generator asks with no one signed in, and only for the model.
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return self.visible(access.viewer(self.request))

    def visible(self, viewer: access.Viewer) -> QuerySet:
        raise NotImplementedError


@extend_schema(
    description=gettext_lazy(
        "The species catalogue: scientific and common names (English, Chinese, Russian), the "
        "IUCN status, and whether the species is sensitive."
    )
)
class SpeciesViewSet(ReadViewSet):
    queryset = Species.objects.none()
    serializer_class = SpeciesSerializer
    filterset_class = filters.SpeciesFilter

    def visible(self, viewer: access.Viewer) -> QuerySet[Species]:
        # The catalogue is the same for everyone who is signed in.
        return Species.objects.all()


@extend_schema(
    description=gettext_lazy(
        "The teams you are a member of (every team for a site admin), as on the team pages."
    )
)
class TeamViewSet(ReadViewSet):
    queryset = Team.objects.none()
    serializer_class = TeamSerializer
    filterset_class = filters.TeamFilter

    def visible(self, viewer: access.Viewer) -> QuerySet[Team]:
        return access.teams(viewer, Action.VIEW)


@extend_schema(
    description=gettext_lazy(
        "Camera stations: your teams' own, and other teams' stations with sightings shared "
        "with you. Where a sensitive species was recorded, other teams see the centre of a "
        "grid cell instead of the station (place.generalised)."
    )
)
class LocationViewSet(ReadViewSet):
    queryset = Location.objects.none()
    serializer_class = LocationSerializer
    filterset_class = filters.LocationFilter

    def visible(self, viewer: access.Viewer) -> QuerySet[Location]:
        return access.locations(viewer)


@extend_schema(
    description=gettext_lazy(
        "Cameras at stations for a period, with their clock settings: your teams' own, and "
        "other teams' ones with sightings shared with you."
    )
)
class DeploymentViewSet(ReadViewSet):
    queryset = Deployment.objects.none()
    serializer_class = DeploymentSerializer
    filterset_class = filters.DeploymentFilter

    def visible(self, viewer: access.Viewer) -> QuerySet[Deployment]:
        return access.shared_deployments(viewer)


class UploadMedia(APIView):
    """Images sent to a deployment by a script, as the upload page sends them."""

    parser_classes = [MultiPartParser]

    @extend_schema(
        summary=gettext_lazy("Upload images to a deployment"),
        description=gettext_lazy(
            "Multipart: one or many file parts (images, or ZIP archives of a card), "
            "optionally a path part for each (its folder in the card, such as "
            "StationA/PBE/IMG_0001.JPG) and a batch to add to one of your earlier batches. "
            "Files the exchange has already, and files that are not images, are skipped "
            "with the reason. For the uploaders of the deployment's team."
        ),
        request={
            "multipart/form-data": inline_serializer(
                "Upload",
                {
                    "file": serializers.ListField(child=serializers.FileField()),
                    "path": serializers.ListField(child=serializers.CharField(), required=False),
                    "batch": serializers.IntegerField(required=False),
                },
            )
        },
        responses={201: ReceivedSerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        deployment = access.get_deployment_for_user(request, pk, Action.UPLOAD)
        # The upload page's form, under the API's names for its parts.
        form = UploadForm(
            MultiValueDict({
                "batch": request.POST.getlist("batch"), "paths": request.POST.getlist("path")
            }),
            MultiValueDict({"files": request.FILES.getlist("file")}),
        )  # fmt: skip
        if not form.is_valid():
            names = {"files": "file", "paths": "path", "__all__": "non_field_errors"}
            errors = {names.get(field, field): list(e) for field, e in form.errors.items()}
            return Response(errors, status=status.HTTP_400_BAD_REQUEST)
        files = zip(form.cleaned_data["files"], form.cleaned_data["paths"], strict=True)
        received = ingest.receive(request.user, deployment, files, form.cleaned_data["batch"])
        return Response(ReceivedSerializer(received).data, status=status.HTTP_201_CREATED)


@extend_schema(
    description=gettext_lazy(
        "Sightings (Camtrap DP observations): your teams' own at any review status, and other "
        "teams' approved ones as far as their sharing rules release them. The filters are "
        "those of the browser."
    )
)
class SightingViewSet(ReadViewSet):
    queryset = Sighting.objects.none()
    serializer_class = SightingSerializer
    filterset_class = filters.SightingFilter

    def visible(self, viewer: access.Viewer) -> QuerySet[Sighting]:
        return access.sightings(viewer).select_related("event", "location", "individual")


@extend_schema(
    description=gettext_lazy(
        "Images: your teams' own, and other teams' images of events with a sighting shared "
        "with you. The state of an uploaded image says whether it is processed yet."
    )
)
class MediaViewSet(ReadViewSet):
    queryset = Media.objects.none()
    serializer_class = MediaSerializer
    filterset_class = filters.MediaFilter

    def visible(self, viewer: access.Viewer) -> QuerySet[Media]:
        return access.media(viewer)


@extend_schema(
    description=gettext_lazy(
        "Known animals, one catalogue for every team. The count is of the sightings you may see."
    )
)
class IndividualViewSet(ReadViewSet):
    queryset = Individual.objects.none()
    serializer_class = IndividualSerializer
    filterset_class = filters.IndividualFilter

    def visible(self, viewer: access.Viewer) -> QuerySet[Individual]:
        return access.individuals(viewer)


class Docs(SpectacularSwaggerSplitView):
    """Swagger UI in the site's own page: its script and styles are static files (the
    sidecar's), nothing inline, as the Content-Security-Policy requires."""

    template_name = "sightings/api_docs.html"


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


# Paths, not regular expressions: ids are matched as <int:pk>.
router = DefaultRouter(use_regex_path=False)
router.include_format_suffixes = False  # JSON only
router.register("species", SpeciesViewSet, basename="api-species")
router.register("teams", TeamViewSet, basename="api-team")
router.register("locations", LocationViewSet, basename="api-location")
router.register("deployments", DeploymentViewSet, basename="api-deployment")
router.register("sightings", SightingViewSet, basename="api-sighting")
router.register("media", MediaViewSet, basename="api-media")
router.register("individuals", IndividualViewSet, basename="api-individual")
urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", Docs.as_view(url_name="api-schema"), name="api-docs"),
    path("deployments/<int:pk>/media/", UploadMedia.as_view(), name="api-upload"),
    *router.urls,
]
