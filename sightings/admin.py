"""The Django admin for site admins. It changes data only through the same functions as the
pages (history, versions, review, independence, protection, regrouping); what those do not
cover, such as deleting images or editing events, it shows read-only."""

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from sightings import classification, events, folders, ingest, protection
from sightings.forms import check_individual
from sightings.models import (
    BatchFolder,
    Deployment,
    Event,
    Individual,
    Location,
    Media,
    Membership,
    NotificationSettings,
    Sighting,
    SightingChange,
    SkippedFile,
    Species,
    Team,
    UploadBatch,
)

# What a person names on a sighting (classification.Naming).
NAMING_FIELDS = ["species", "count", "sex", "life_stage", "behaviour", "individual", "comment"]


class MembershipInline(admin.TabularInline):
    model = Membership
    raw_id_fields = ["user"]
    extra = 1


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "country", "embargo_months", "second_opinion", "created_at"]
    list_filter = ["country", "second_opinion"]
    search_fields = ["name"]
    filter_horizontal = ["shares_with"]
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

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if "is_sensitive" in form.changed_data:
            # The stations that already hold it are protected from now on, like new ones.
            count = protection.protect_stations_of(obj)
            if count:
                self.message_user(
                    request,
                    ngettext(
                        "%(count)d station holding it is now shown to other teams on the grid.",
                        "%(count)d stations holding it are now shown to other teams on the grid.",
                        count,
                    )
                    % {"count": count},
                )


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "country", "latitude", "longitude", "is_shared"]
    list_filter = ["country", "team", "is_shared"]
    list_select_related = ["team"]
    search_fields = ["name", "team__name"]
    # Set by the records (protection.py); never taken back by hand.
    readonly_fields = ["has_sensitive_species"]


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
        before = {name: form.initial.get(name) for name in form.changed_data}
        if change and events.deployment_changed(obj, before):
            self.message_user(request, _("Capture times and events are being worked out again."))


class ReadOnly:
    """For records the pipeline keeps consistent (events, image counts, history): shown,
    never added, edited or deleted by hand."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(UploadBatch)
class UploadBatchAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["__str__", "deployment", "uploaded_by", "created_at"]
    list_filter = ["deployment__location__team"]
    list_select_related = ["deployment__location", "uploaded_by"]
    search_fields = ["uploaded_by__username", "deployment__location__name"]
    raw_id_fields = ["deployment", "uploaded_by"]
    date_hierarchy = "created_at"


@admin.register(Media)
class MediaAdmin(ReadOnly, admin.ModelAdmin):
    list_display = [
        "original_name", "deployment", "state", "camera_time", "captured_at", "make", "model",
        "is_outside_deployment",
    ]  # fmt: skip
    list_filter = ["state", "capture_time_source", "is_outside_deployment", "is_truncated", "make"]
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
class SkippedFileAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["name", "batch", "reason", "duplicate_of"]
    list_filter = ["reason"]
    search_fields = ["name"]
    raw_id_fields = ["batch", "duplicate_of"]


class SightingInline(ReadOnly, admin.TabularInline):
    model = Sighting
    fields = ["species", "count", "individual", "review_status", "classification_method"]
    readonly_fields = fields
    show_change_link = True
    extra = 0


@admin.register(Event)
class EventAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["__str__", "deployment", "start_at", "end_at", "media_count"]
    list_filter = ["deployment__location__team"]
    list_select_related = ["deployment__location"]
    search_fields = ["deployment__location__name"]
    raw_id_fields = ["deployment"]
    date_hierarchy = "start_at"
    inlines = [SightingInline]


class SightingAdminForm(forms.ModelForm):
    class Meta:
        model = Sighting
        fields = [*NAMING_FIELDS, "review_status"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Named through the same rules as on the event page: a species is always given.
        self.fields["species"].required = True

    def clean(self) -> dict:
        cleaned = super().clean()
        check_individual(cleaned.get("species"), cleaned.get("individual"))
        return cleaned


@admin.register(SightingChange)
class SightingChangeAdmin(ReadOnly, admin.ModelAdmin):
    """The history, to read: append-only (SightingChange), here as everywhere."""

    list_display = ["sighting_id", "changed_at", "changed_by", "method", "changes"]
    list_filter = ["method"]
    list_select_related = ["changed_by"]
    search_fields = ["changed_by__username"]
    date_hierarchy = "changed_at"


@admin.register(NotificationSettings)
class NotificationSettingsAdmin(admin.ModelAdmin):
    list_display = ["user", "review_digest", "digest_sent_at"]
    list_filter = ["review_digest"]
    raw_id_fields = ["user"]
    readonly_fields = ["digest_sent_at"]


@admin.register(Sighting)
class SightingAdmin(admin.ModelAdmin):
    form = SightingAdminForm
    list_display = [
        "__str__", "event", "count", "individual", "classification_method", "classified_by",
        "classified_at", "is_independent",
    ]  # fmt: skip
    list_filter = ["classification_method", "is_independent", "species__kind", "sex"]
    list_select_related = ["species", "event__deployment__location", "individual", "classified_by"]
    search_fields = ["species__scientific_name", "species__name_en", "individual__code", "comment"]
    raw_id_fields = ["species", "individual"]
    fields = [
        *NAMING_FIELDS, "review_status", "event", "location", "observed_at", "classified_by",
        "classified_at", "classification_method", "version", "is_independent", "history",
    ]  # fmt: skip
    readonly_fields = fields[len(NAMING_FIELDS) + 1 :]

    @admin.display(description=_("history"))
    def history(self, obj: Sighting) -> str:
        # Shown as text, not an inline: the history is never edited, so it has no form.
        changes = obj.changes.select_related("changed_by").order_by("changed_at", "pk")
        return format_html_join(
            mark_safe("<br>"),
            "{} · {} · {}",
            ((f"{c.changed_at:%Y-%m-%d %H:%M}", c.changed_by or "—", c.changes) for c in changes),
        )

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # sightings come from events (the event page adds more)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        # Through the same functions as the pages: history, version, review, independence.
        sighting = Sighting.objects.select_related("event__deployment", "species", "individual")
        sighting = sighting.get(pk=obj.pk)
        if set(form.changed_data) & set(NAMING_FIELDS):
            naming = classification.Naming(**{name: getattr(obj, name) for name in NAMING_FIELDS})
            sighting = classification.classify(sighting, sighting.version, naming, request.user)
        if "review_status" in form.changed_data:
            try:
                classification.review(sighting, obj.review_status, request.user, sighting.version)
            except classification.Refused as refused:
                self.message_user(request, refused.message, messages.ERROR)


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
    raw_id_fields = ["species"]
    fields = ["batch", "name", "species"]
    readonly_fields = ["batch", "name"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        # As the batch page answers it: the folder's images and events follow.
        folders.answer(obj, obj.species)
        folders.apply(obj.batch)
