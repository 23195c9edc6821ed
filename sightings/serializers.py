"""What the JSON API (api.py) says of each thing: fields listed one by one, never all of a
model, and coordinates only as access.place() gives them to the requesting viewer."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from sightings import access
from sightings.models import (
    Deployment,
    Individual,
    Location,
    Media,
    Sighting,
    SkippedFile,
    Species,
    Team,
)


@extend_schema_field(
    inline_serializer(
        "Place",
        {
            "latitude": serializers.FloatField(allow_null=True),
            "longitude": serializers.FloatField(allow_null=True),
            "generalised": serializers.BooleanField(
                help_text=gettext_lazy(
                    "True: the centre of the grid cell around a protected station."
                )
            ),
        },
    )
)
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


class TeamSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name", "country"]


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
    failure_reason = serializers.SerializerMethodField()

    class Meta:
        model = Media
        # No file names, folders or GPS: a file's own position could give away a
        # protected station (access.image_place decides that, on the media page).
        fields = ["id", "deployment", "event", "format", "state", "failure_reason",
                  "captured_at", "width", "height", "make", "model"]  # fmt: skip

    @extend_schema_field(OpenApiTypes.STR)
    def get_failure_reason(self, media: Media) -> str:
        # Stored untranslated (processing.py), read in the requester's language.
        return _(media.failure_reason) if media.failure_reason else ""


class IndividualSerializer(serializers.ModelSerializer):
    sighting_count = serializers.IntegerField(
        read_only=True, help_text=gettext_lazy("Of the sightings the requester may see.")
    )

    class Meta:
        model = Individual
        fields = ["id", "code", "name", "sex", "species", "team", "notes", "sighting_count"]


class SkippedFileSerializer(serializers.ModelSerializer):
    message = serializers.SerializerMethodField()

    class Meta:
        model = SkippedFile
        fields = ["name", "reason", "message"]

    @extend_schema_field(OpenApiTypes.STR)
    def get_message(self, skipped: SkippedFile) -> str:
        return _(skipped.message) if skipped.message else ""


class ReceivedSerializer(serializers.Serializer):
    """What an upload stored and skipped (ingest.Received)."""

    batch = serializers.IntegerField(source="batch.pk")
    accepted = serializers.ListField(
        child=serializers.IntegerField(),
        source="media_ids",
        help_text=gettext_lazy("The ids of the images stored and queued for processing."),
    )
    skipped = SkippedFileSerializer(many=True)
