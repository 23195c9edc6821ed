from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from sightings import ingest, tasks
from sightings.models import (
    BatchFolder,
    Deployment,
    Event,
    Individual,
    Location,
    Media,
    Membership,
    Sighting,
    SkippedFile,
    Species,
    Team,
    UploadBatch,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    raw_id_fields = ["user"]
    extra = 1


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "country", "created_at"]
    list_filter = ["country"]
    search_fields = ["name"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "team", "role"]
    list_filter = ["role", "team"]
    list_select_related = ["user", "team"]
    search_fields = ["user__username", "user__email", "team__name"]
    raw_id_fields = ["user"]


@admin.register(Species)
class SpeciesAdmin(admin.ModelAdmin):
    list_display = [
        "scientific_name", "code", "name_en", "name_zh", "name_ru", "kind", "iucn_status",
        "is_sensitive",
    ]  # fmt: skip
    list_filter = ["kind", "iucn_status", "is_sensitive"]
    search_fields = ["scientific_name", "code", "name_en", "name_zh", "name_ru"]


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "country", "latitude", "longitude"]
    list_filter = ["country", "team"]
    list_select_related = ["team"]
    search_fields = ["name", "team__name"]


@admin.register(Deployment)
class DeploymentAdmin(admin.ModelAdmin):
    list_display = [
        "__str__", "location", "start_at", "end_at", "time_zone", "clock_correction_seconds",
        "camera_model",
    ]  # fmt: skip
    list_filter = ["location__team", "location__country", "time_zone"]
    list_select_related = ["location"]
    search_fields = ["location__name", "camera_serial", "camera_model"]
    raw_id_fields = ["location"]

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        # Its images' UTC instants follow the zone, correction and period, and its events
        # follow the times and the gap. A task does both: a deployment may hold many images.
        clock = {"time_zone", "clock_correction_seconds", "start_at", "end_at", "event_gap_seconds"}
        if change and clock & set(form.changed_data):
            tasks.regroup_deployment.delay_on_commit(obj.pk)
            self.message_user(request, _("Capture times and events are being worked out again."))


@admin.register(UploadBatch)
class UploadBatchAdmin(admin.ModelAdmin):
    list_display = ["__str__", "deployment", "uploaded_by", "created_at"]
    list_filter = ["deployment__location__team"]
    list_select_related = ["deployment__location", "uploaded_by"]
    search_fields = ["uploaded_by__username", "deployment__location__name"]
    raw_id_fields = ["deployment", "uploaded_by"]
    date_hierarchy = "created_at"


@admin.register(Media)
class MediaAdmin(admin.ModelAdmin):
    list_display = [
        "original_name", "deployment", "state", "camera_time", "captured_at", "make", "model",
        "is_outside_deployment",
    ]  # fmt: skip
    list_filter = ["state", "capture_time_source", "is_outside_deployment", "make"]
    list_select_related = ["deployment__location"]
    search_fields = ["original_name", "sha256", "serial_number", "folder"]
    raw_id_fields = ["batch", "deployment"]
    readonly_fields = ["sha256", "file_size", "exif", "warnings", "created_at", "processed_at"]
    date_hierarchy = "created_at"
    actions = ["retry_processing"]

    @admin.action(description=_("Retry processing of the selected failed media"))
    def retry_processing(self, request, queryset) -> None:
        count = ingest.retry_failed(queryset)
        self.message_user(
            request,
            ngettext("%(count)d media queued again.", "%(count)d media queued again.", count)
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(SkippedFile)
class SkippedFileAdmin(admin.ModelAdmin):
    list_display = ["name", "batch", "reason", "duplicate_of"]
    list_filter = ["reason"]
    search_fields = ["name"]
    raw_id_fields = ["batch", "duplicate_of"]


class SightingInline(admin.TabularInline):
    model = Sighting
    raw_id_fields = ["species", "individual", "classified_by"]
    readonly_fields = ["version", "is_independent"]
    extra = 0


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["__str__", "deployment", "start_at", "end_at", "media_count"]
    list_filter = ["deployment__location__team"]
    list_select_related = ["deployment__location"]
    search_fields = ["deployment__location__name"]
    raw_id_fields = ["deployment"]
    date_hierarchy = "start_at"
    inlines = [SightingInline]


@admin.register(Sighting)
class SightingAdmin(admin.ModelAdmin):
    list_display = [
        "__str__", "event", "count", "individual", "classification_method", "classified_by",
        "classified_at", "is_independent",
    ]  # fmt: skip
    list_filter = ["classification_method", "is_independent", "species__kind", "sex"]
    list_select_related = ["species", "event__deployment__location", "individual", "classified_by"]
    search_fields = ["species__scientific_name", "species__name_en", "individual__code", "comment"]
    raw_id_fields = ["event", "species", "individual", "classified_by"]
    readonly_fields = ["version", "is_independent"]


@admin.register(Individual)
class IndividualAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "species", "sex", "team", "created_at"]
    list_filter = ["team", "sex", "species"]
    list_select_related = ["species", "team"]
    search_fields = ["code", "name", "notes"]
    raw_id_fields = ["reference_media"]


@admin.register(BatchFolder)
class BatchFolderAdmin(admin.ModelAdmin):
    list_display = ["name", "batch", "species", "is_ignored"]
    list_filter = ["is_ignored"]
    list_select_related = ["batch", "species"]
    search_fields = ["name"]
    raw_id_fields = ["batch", "species"]
