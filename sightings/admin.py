"""The Django admin for site admins. It changes data only through the same functions as the
pages (history, versions, review, independence, protection, regrouping); what those do not
cover, such as deleting images or editing events, it shows read-only."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Exists, OuterRef, Q
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from sightings import classification, events, folders, ingest, protection
from sightings.forms import BaseMalfunctionFormSet, check_individual
from sightings.models import (
    BatchFolder,
    Deployment,
    Event,
    ExportJob,
    FolderAnswer,
    ImportJob,
    Individual,
    Location,
    MalfunctionPeriod,
    Media,
    MediaObservation,
    Membership,
    NotificationSettings,
    PendingGrouping,
    Sighting,
    SightingChange,
    SkippedFile,
    Species,
    Team,
    UploadBatch,
)

# What a person names on a sighting (classification.Naming).
NAMING_FIELDS = ["species", "count", "sex", "life_stage", "behaviour", "individual", "comment"]


def link(obj, text=None) -> str:
    """A link to the object's admin page (nothing for None)."""
    if obj is None:
        return "—"
    meta = obj._meta
    url = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, text if text is not None else obj)


def list_link(model, filters: str, text) -> str:
    """A link to the model's admin list, filtered (e.g. "deployment__id__exact=3")."""
    meta = model._meta
    url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
    return format_html('<a href="{}?{}">{}</a>', url, filters, text)


def regroup(modeladmin, request, deployment_ids: set[int]) -> None:
    """Have the deployments' images grouped into events again, as a clock change does."""
    for deployment_id in deployment_ids:
        events.request_grouping(deployment_id, again=True, everything=True)
    count = len(deployment_ids)
    modeladmin.message_user(
        request,
        ngettext(
            "The events of %(count)d deployment are being worked out again.",
            "The events of %(count)d deployments are being worked out again.",
            count,
        )
        % {"count": count},
        messages.SUCCESS,
    )


def retried(modeladmin, request, count: int) -> None:
    modeladmin.message_user(
        request,
        ngettext("%(count)d media queued again.", "%(count)d media queued again.", count)
        % {"count": count},
        messages.SUCCESS,
    )


class MembershipFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        """The rule the team pages keep (members.set_roles): a team keeps a team admin."""
        super().clean()
        had_admin = self.instance.pk and self.instance.memberships.filter(role="admin").exists()
        kept = [
            form.cleaned_data for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]  # fmt: skip
        if had_admin and not any(data.get("role") == "admin" for data in kept):
            raise forms.ValidationError(
                _("The team needs a team admin: make someone else one first.")
            )


class MembershipInline(admin.TabularInline):
    model = Membership
    formset = MembershipFormSet
    raw_id_fields = ["user"]
    extra = 1


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "country",
        "members",
        "locations",
        "embargo_months",
        "second_opinion",
        "created_at",
    ]
    list_filter = ["country", "second_opinion"]
    search_fields = ["name"]
    filter_horizontal = ["shares_with"]
    inlines = [MembershipInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                member_count=Count("memberships__user", distinct=True),
                location_count=Count("locations", distinct=True),
            )
        )

    @admin.display(description=_("members"), ordering="member_count")
    def members(self, team: Team) -> str:
        return list_link(Membership, f"team__id__exact={team.pk}", team.member_count)

    @admin.display(description=_("locations"), ordering="location_count")
    def locations(self, team: Team) -> str:
        return list_link(Location, f"team__id__exact={team.pk}", team.location_count)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "team_link", "role", "is_active"]
    list_filter = ["role", "team"]
    list_select_related = ["user", "team"]
    search_fields = ["user__username", "user__email", "team__name"]
    raw_id_fields = ["user"]

    @admin.display(description=_("team"), ordering="team__name")
    def team_link(self, membership: Membership) -> str:
        return link(membership.team)

    @admin.display(description=_("account open"), boolean=True)
    def is_active(self, membership: Membership) -> bool:
        return membership.user.is_active  # False: invited, no password set yet


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
    list_display = [
        "name", "team_link", "country", "latitude", "longitude", "has_sensitive_species",
        "is_shared", "deployments",
    ]  # fmt: skip
    list_filter = ["country", "team", "has_sensitive_species", "is_shared"]
    list_select_related = ["team"]
    search_fields = ["name", "team__name"]
    # Set by the records (protection.py); never taken back by hand.
    readonly_fields = ["has_sensitive_species"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(deployment_count=Count("deployments"))

    @admin.display(description=_("team"), ordering="team__name")
    def team_link(self, location: Location) -> str:
        return link(location.team)

    @admin.display(description=_("deployments"), ordering="deployment_count")
    def deployments(self, location: Location) -> str:
        return list_link(
            Deployment, f"location__id__exact={location.pk}", location.deployment_count
        )


class MalfunctionInline(admin.TabularInline):
    model = MalfunctionPeriod
    formset = BaseMalfunctionFormSet  # no two periods share a day
    extra = 0


@admin.register(Deployment)
class DeploymentAdmin(admin.ModelAdmin):
    inlines = [MalfunctionInline]
    list_display = [
        "__str__", "location_link", "start_at", "end_at", "time_zone", "clock_correction_seconds",
        "event_gap_seconds", "camera_model", "images", "failed", "event_list", "regrouping",
    ]  # fmt: skip
    list_filter = ["location__team", "location__country", "time_zone"]
    list_select_related = ["location"]
    search_fields = ["location__name", "camera_serial", "camera_model"]
    raw_id_fields = ["location"]
    actions = ["rerun_grouping", "retry_failed_media"]

    def get_queryset(self, request):
        pending = PendingGrouping.objects.filter(deployment=OuterRef("pk"), everything=True)
        return (
            super()
            .get_queryset(request)
            .annotate(
                media_count=Count("media", distinct=True),
                failed_count=Count(
                    "media", filter=Q(media__state=Media.State.FAILED), distinct=True
                ),
                event_count=Count("events", distinct=True),
                is_regrouping=Exists(pending),
            )
        )

    @admin.display(description=_("location"), ordering="location__name")
    def location_link(self, deployment: Deployment) -> str:
        return link(deployment.location)

    @admin.display(description=_("images"), ordering="media_count")
    def images(self, deployment: Deployment) -> str:
        return list_link(Media, f"deployment__id__exact={deployment.pk}", deployment.media_count)

    @admin.display(description=_("failed"), ordering="failed_count")
    def failed(self, deployment: Deployment) -> str:
        filters = f"deployment__id__exact={deployment.pk}&state__exact=failed"
        return list_link(Media, filters, deployment.failed_count)

    @admin.display(description=_("events"), ordering="event_count")
    def event_list(self, deployment: Deployment) -> str:
        return list_link(Event, f"deployment__id__exact={deployment.pk}", deployment.event_count)

    @admin.display(description=_("being regrouped"), boolean=True, ordering="is_regrouping")
    def regrouping(self, deployment: Deployment) -> bool:
        return deployment.is_regrouping

    @admin.action(description=_("Re-run grouping of the selected deployments"))
    def rerun_grouping(self, request, queryset) -> None:
        regroup(self, request, set(queryset.values_list("pk", flat=True)))

    @admin.action(description=_("Retry failed media of the selected deployments"))
    def retry_failed_media(self, request, queryset) -> None:
        retried(self, request, ingest.retry_failed(Media.objects.filter(deployment__in=queryset)))

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
    list_display = ["__str__", "deployment_link", "uploaded_by", "created_at", "images", "failed"]
    list_filter = ["deployment__location__team"]
    list_select_related = ["deployment__location", "uploaded_by"]
    search_fields = ["uploaded_by__username", "deployment__location__name"]
    raw_id_fields = ["deployment", "uploaded_by"]
    date_hierarchy = "created_at"
    actions = ["retry_failed_media"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                media_count=Count("media"),
                failed_count=Count("media", filter=Q(media__state=Media.State.FAILED)),
            )
        )

    @admin.display(description=_("deployment"), ordering="deployment__start_at")
    def deployment_link(self, batch: UploadBatch) -> str:
        return link(batch.deployment)

    @admin.display(description=_("images"), ordering="media_count")
    def images(self, batch: UploadBatch) -> str:
        return list_link(Media, f"batch__id__exact={batch.pk}", batch.media_count)

    @admin.display(description=_("failed"), ordering="failed_count")
    def failed(self, batch: UploadBatch) -> str:
        return list_link(
            Media, f"batch__id__exact={batch.pk}&state__exact=failed", batch.failed_count
        )

    @admin.action(description=_("Retry failed media of the selected batches"))
    def retry_failed_media(self, request, queryset) -> None:
        retried(self, request, ingest.retry_failed(Media.objects.filter(batch__in=queryset)))


@admin.register(Media)
class MediaAdmin(ReadOnly, admin.ModelAdmin):
    list_display = [
        "original_name", "deployment_link", "batch_link", "event_link", "state", "camera_time",
        "captured_at", "make", "model", "is_outside_deployment",
    ]  # fmt: skip
    list_filter = [
        "state", "capture_time_source", "is_outside_deployment", "is_truncated",
        "deployment__location__team", "make",
    ]  # fmt: skip
    list_select_related = ["deployment__location", "batch", "event"]
    search_fields = ["original_name", "sha256", "serial_number", "folder"]
    raw_id_fields = ["batch", "deployment"]
    readonly_fields = ["sha256", "file_size", "exif", "warnings", "created_at", "processed_at"]
    date_hierarchy = "created_at"
    actions = ["retry_processing"]

    @admin.action(description=_("Retry processing of the selected failed media"))
    def retry_processing(self, request, queryset) -> None:
        retried(self, request, ingest.retry_failed(queryset))

    @admin.display(description=_("deployment"), ordering="deployment__start_at")
    def deployment_link(self, media: Media) -> str:
        return link(media.deployment)

    @admin.display(description=_("upload batch"), ordering="batch")
    def batch_link(self, media: Media) -> str:
        return link(media.batch)

    @admin.display(description=_("event"), ordering="event__start_at")
    def event_link(self, media: Media) -> str:
        return link(media.event)


@admin.register(SkippedFile)
class SkippedFileAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["name", "batch", "reason", "duplicate_of"]
    list_filter = ["reason"]
    search_fields = ["name"]
    raw_id_fields = ["batch", "duplicate_of"]


@admin.register(MediaObservation)
class MediaObservationAdmin(ReadOnly, admin.ModelAdmin):
    """What an imported package says single images show (camtrapdp_import.py)."""

    list_display = ["__str__", "media", "count", "life_stage", "sex", "individual", "source_id"]
    list_filter = ["classification_method"]
    list_select_related = ["species", "media", "individual"]
    search_fields = ["source_id", "media__original_name", "classified_by_name"]
    raw_id_fields = ["media", "individual"]


@admin.register(ExportJob)
class ExportJobAdmin(ReadOnly, admin.ModelAdmin):
    """Camtrap DP packages built by workers; kept by their jobs (camtrapdp_jobs.py)."""

    list_display = ["__str__", "owner", "state", "done", "total", "attempt_count",
                    "created_at", "progress_at", "finished_at"]  # fmt: skip
    list_filter = ["state"]
    list_select_related = ["owner"]
    search_fields = ["owner__username", "filters"]
    date_hierarchy = "created_at"


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnly, admin.ModelAdmin):
    """Camtrap DP packages uploaded for import; kept by their jobs (camtrapdp_jobs.py)."""

    list_display = ["__str__", "team", "owner", "state", "media_files", "attempt_count",
                    "created_at", "progress_at", "finished_at"]  # fmt: skip
    list_filter = ["state", "team"]
    list_select_related = ["owner", "team"]
    search_fields = ["owner__username", "team__name", "name"]
    date_hierarchy = "created_at"


class SightingInline(ReadOnly, admin.TabularInline):
    model = Sighting
    fields = ["species", "count", "individual", "review_status", "classification_method"]
    readonly_fields = fields
    show_change_link = True
    extra = 0


@admin.register(Event)
class EventAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["__str__", "deployment_link", "start_at", "end_at", "images"]
    list_filter = ["deployment__location__team"]
    list_select_related = ["deployment__location"]
    search_fields = ["deployment__location__name"]
    raw_id_fields = ["deployment"]
    date_hierarchy = "start_at"
    inlines = [SightingInline]
    actions = ["rerun_grouping"]

    @admin.display(description=_("deployment"), ordering="deployment__start_at")
    def deployment_link(self, event: Event) -> str:
        return link(event.deployment)

    @admin.display(description=_("images"), ordering="media_count")
    def images(self, event: Event) -> str:
        return list_link(Media, f"event__id__exact={event.pk}", event.media_count)

    @admin.action(description=_("Re-run grouping of the selected events' deployments"))
    def rerun_grouping(self, request, queryset) -> None:
        regroup(self, request, set(queryset.values_list("deployment_id", flat=True)))


class SightingChangeInline(ReadOnly, admin.TabularInline):
    """A sighting's history, read-only: it is only ever appended to."""

    model = SightingChange
    fields = ["changed_at", "changed_by", "method", "changes"]
    readonly_fields = fields
    ordering = ["changed_at", "pk"]
    extra = 0


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
        "__str__", "event_link", "location_link", "count", "individual", "review_status",
        "classification_method", "classified_by", "classified_at", "is_independent",
    ]  # fmt: skip
    list_filter = [
        "review_status", "classification_method", "is_independent", "location__team",
        "species__kind", "species__is_sensitive", "sex",
    ]  # fmt: skip
    list_select_related = [
        "species", "event__deployment__location", "location", "individual", "classified_by",
    ]  # fmt: skip
    inlines = [SightingChangeInline]
    search_fields = ["species__scientific_name", "species__name_en", "individual__code", "comment"]
    raw_id_fields = ["species", "individual"]
    fields = [
        *NAMING_FIELDS, "review_status", "event", "location", "observed_at", "classified_by",
        "classified_by_name", "classified_at", "classification_method",
        "source_classification_method", "source_id", "version", "is_independent",
    ]  # fmt: skip
    readonly_fields = fields[len(NAMING_FIELDS) + 1 :]

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # sightings come from events (the event page adds more)

    @admin.display(description=_("event"), ordering="event__start_at")
    def event_link(self, sighting: Sighting) -> str:
        return link(sighting.event)

    @admin.display(description=_("location"), ordering="location__name")
    def location_link(self, sighting: Sighting) -> str:
        return link(sighting.location)

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
    list_display = ["name", "batch", "species", "is_ignored", "is_remembered"]
    list_filter = ["is_ignored", "is_remembered"]
    list_select_related = ["batch", "species"]
    search_fields = ["name"]
    raw_id_fields = ["species"]
    fields = ["batch", "name", "species"]
    readonly_fields = ["batch", "name"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        # As the batch page answers it: the folder's images and events follow, and the
        # team remembers the answer.
        folders.answer(obj, obj.species, request.user)
        folders.apply(obj.batch)


@admin.register(FolderAnswer)
class FolderAnswerAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "species", "answered_by", "answered_at"]
    list_filter = ["team"]
    list_select_related = ["team", "species", "answered_by"]
    search_fields = ["name", "species__name_en", "species__scientific_name"]
    raw_id_fields = ["species"]
    fields = ["team", "name", "species"]

    def get_readonly_fields(self, request, obj=None) -> list[str]:
        return ["team", "name"] if obj else []

    def save_model(self, request, obj, form, change) -> None:
        # As the team page and the batch page keep it: one answer per team and name.
        obj.pk = folders.remember(obj.team, obj.name, obj.species, request.user).pk


class MalfunctionPeriodForm(forms.ModelForm):
    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = cleaned.get("starts_on"), cleaned.get("ends_on")
        deployment = cleaned.get("deployment")
        if start and end and deployment:
            others = deployment.malfunctions.exclude(pk=self.instance.pk)
            periods = [*others.values_list("starts_on", "ends_on"), (start, end)]
            if MalfunctionPeriod.overlap(periods) is not None:
                raise forms.ValidationError(_("Another malfunction period of the deployment "
                                              "covers some of these days."))  # fmt: skip
        return cleaned


@admin.register(MalfunctionPeriod)
class MalfunctionPeriodAdmin(admin.ModelAdmin):
    form = MalfunctionPeriodForm
    list_display = ["__str__", "deployment", "reason"]
    list_filter = ["reason", "deployment__location__team"]
    list_select_related = ["deployment__location"]
    search_fields = ["deployment__location__name"]
    raw_id_fields = ["deployment"]
    date_hierarchy = "starts_on"
