from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import IntegrityError, models
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class Country(models.TextChoices):
    CN = "CN", _("China")
    RU = "RU", _("Russia")
    MN = "MN", _("Mongolia")
    KR = "KR", _("Republic of Korea")
    JP = "JP", _("Japan")
    KP = "KP", _("Democratic People's Republic of Korea")


class Sex(models.TextChoices):
    # Camtrap DP observation sex.
    FEMALE = "female", _("female")
    MALE = "male", _("male")
    UNKNOWN = "unknown", _("unknown")


class Team(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    country = models.CharField(_("country"), max_length=2, choices=Country.choices)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    # What other teams receive (access.py): records older than the embargo, and only the
    # teams listed here, if any are (e.g. a bilateral agreement before wider sharing).
    embargo_months = models.PositiveSmallIntegerField(
        _("embargo (months)"), default=0, validators=[MaxValueValidator(600)],
        help_text=_("Other teams see records only once they are this many months old."),
    )  # fmt: skip
    shares_with = models.ManyToManyField(
        "self", symmetrical=False, blank=True, related_name="shared_by",
        verbose_name=_("shares with"),
        help_text=_("The teams that see this team's records. None chosen: every team."),
    )  # fmt: skip
    # Sightings of a sensitive species are approved only by a reviewer who did not name them.
    second_opinion = models.BooleanField(
        _("second opinion for sensitive species"),
        default=False,
        help_text=_("A sighting of a sensitive species needs approval by a reviewer other "
                    "than the person who named it."),
    )  # fmt: skip

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        UPLOADER = "uploader", _("uploader")
        REVIEWER = "reviewer", _("reviewer")
        ADMIN = "admin", _("team admin")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    team = models.ForeignKey(
        Team, models.CASCADE, related_name="memberships", verbose_name=_("team")
    )
    # A user may hold several roles in one team: one row per role.
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "team", "role"], name="unique_role_per_team"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.team} · {self.get_role_display()}"


class SpeciesQuerySet(models.QuerySet):
    def find(self, text: str) -> Species | None:
        """The species a person or a card folder names: scientific name, short code, or common
        name in any of our languages, ignoring case; the labels of find_labels() too."""
        wanted = " ".join(text.split()).casefold()
        if not wanted:
            return None
        for species in self:
            if wanted in {name.casefold() for name in species.names()}:
                return species
        return None


class Species(models.Model):
    class Kind(models.TextChoices):
        # Camtrap DP observationType.
        ANIMAL = "animal", _("animal")
        BLANK = "blank", _("blank")
        HUMAN = "human", _("human")
        VEHICLE = "vehicle", _("vehicle")
        UNKNOWN = "unknown", _("unknown")

    class IUCN(models.TextChoices):
        EX = "EX", _("Extinct")
        EW = "EW", _("Extinct in the Wild")
        CR = "CR", _("Critically Endangered")
        EN = "EN", _("Endangered")
        VU = "VU", _("Vulnerable")
        NT = "NT", _("Near Threatened")
        LC = "LC", _("Least Concern")
        DD = "DD", _("Data Deficient")
        NE = "NE", _("Not Evaluated")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.ANIMAL)
    scientific_name = models.CharField(_("scientific name"), max_length=200, blank=True)
    # A team's short code for card folders, e.g. "PTA" (camtrapR's species folder names).
    code = models.CharField(_("short code"), max_length=20, blank=True)
    rank = models.CharField(_("taxon rank"), max_length=20, blank=True)
    name_en = models.CharField(_("English name"), max_length=200)
    name_zh = models.CharField(_("Chinese name"), max_length=200)
    name_ru = models.CharField(_("Russian name"), max_length=200)
    iucn_status = models.CharField(
        _("IUCN Red List category"), max_length=2, choices=IUCN.choices, blank=True
    )
    # Exact coordinates of sightings of sensitive species are withheld from other teams.
    is_sensitive = models.BooleanField(_("sensitive"), default=False)

    objects = SpeciesQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "scientific_name", "name_en"]
        verbose_name = _("species")
        verbose_name_plural = _("species")
        constraints = [
            models.UniqueConstraint(
                fields=["scientific_name"],
                condition=Q(kind="animal"),
                name="unique_scientific_name",
            ),
            models.UniqueConstraint(
                fields=["kind"], condition=~Q(kind="animal"), name="one_row_per_non_animal_kind"
            ),
            models.CheckConstraint(
                condition=~Q(kind="animal") | ~Q(scientific_name=""),
                name="animals_have_a_scientific_name",
            ),
            models.UniqueConstraint(
                fields=["code"], condition=~Q(code=""), name="unique_species_code"
            ),
        ]

    def __str__(self) -> str:
        return self.label()

    def names(self) -> list[str]:
        """Every name this species answers to, including its label in each language."""
        names = [self.scientific_name, self.code, self.name_en, self.name_zh, self.name_ru]
        names += [self.label(common) for common in (self.name_en, self.name_zh, self.name_ru)]
        names += [self.get_kind_display(), self.kind] if self.kind != self.Kind.ANIMAL else []
        return [name for name in names if name]

    def label(self, common: str | None = None) -> str:
        """ "Amur tiger (Panthera tigris altaica)": what the species field shows and accepts."""
        common = common or self.common_name
        return f"{common} ({self.scientific_name})" if self.scientific_name else common

    @property
    def record_name(self) -> str:
        """The name in record tables and exports: scientific, or the class for non-animals."""
        return self.scientific_name or self.name_en

    @property
    def common_name(self) -> str:
        """The common name in the active language, falling back to English."""
        language = get_language() or "en"
        if language.startswith("zh"):
            return self.name_zh or self.name_en
        if language.startswith("ru"):
            return self.name_ru or self.name_en
        return self.name_en


class Location(models.Model):
    team = models.ForeignKey(Team, models.PROTECT, related_name="locations", verbose_name=_("team"))
    name = models.CharField(_("name"), max_length=200)
    # Blank until known: stations imported from card folders arrive without coordinates.
    latitude = models.FloatField(
        _("latitude"), null=True, blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )  # fmt: skip
    longitude = models.FloatField(
        _("longitude"), null=True, blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )  # fmt: skip
    country = models.CharField(_("country"), max_length=2, choices=Country.choices)
    habitat = models.TextField(_("habitat notes"), blank=True)
    # Set once a sensitive species is recorded here: from then on other teams see this
    # location only on a grid (protection.py), whatever species they look at, so that the
    # station's exact place cannot be learnt from its deer.
    has_sensitive_species = models.BooleanField(
        _("a sensitive species was recorded here"), default=False
    )
    # Off: other teams never see this station, its deployments, images or records.
    is_shared = models.BooleanField(_("shared with other teams"), default=True)

    class Meta:
        ordering = ["team", "name"]
        verbose_name = _("location")
        verbose_name_plural = _("locations")
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="unique_location_name_per_team"),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="location_latitude_in_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="location_longitude_in_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("%(value)s is not an IANA time zone name."), params={"value": value}
        )


class Deployment(models.Model):
    location = models.ForeignKey(
        Location, models.PROTECT, related_name="deployments", verbose_name=_("location")
    )
    camera_make = models.CharField(_("camera make"), max_length=100, blank=True)
    camera_model = models.CharField(_("camera model"), max_length=100, blank=True)
    camera_serial = models.CharField(_("camera serial number"), max_length=100, blank=True)
    start_at = models.DateTimeField(_("start"))
    end_at = models.DateTimeField(_("end"), null=True, blank=True)
    time_zone = models.CharField(
        _("camera time zone"),
        max_length=64,
        blank=True,
        validators=[validate_timezone],
        help_text=_("The IANA time zone the camera clock was set to, e.g. Asia/Vladivostok."),
    )
    clock_correction_seconds = models.IntegerField(
        _("clock correction (seconds)"),
        default=0,
        help_text=_("Seconds to add to the camera clock to get the true time."),
    )
    # Its id in the Camtrap DP package it was imported from (camtrapdp_import.py), prefixed
    # with the package's id: importing the package again finds it instead of adding it twice.
    source_id = models.CharField(
        _("id in the imported package"), max_length=255, blank=True, db_index=True
    )
    event_gap_seconds = models.PositiveIntegerField(
        _("event gap (seconds)"),
        default=60,
        help_text=_("Images closer together than this form one event."),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["-start_at"]
        verbose_name = _("deployment")
        verbose_name_plural = _("deployments")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_at__isnull=True) | Q(end_at__gte=F("start_at")),
                name="deployment_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.location} · {self.start_at:%Y-%m-%d}"

    def to_utc(self, camera_time: dt.datetime, file_offset: str = "") -> dt.datetime | None:
        """The true UTC instant of a camera clock reading, or None if its zone is unknown."""
        corrected = camera_time + dt.timedelta(seconds=self.clock_correction_seconds)
        if self.time_zone:
            zone = zoneinfo.ZoneInfo(self.time_zone)
        elif file_offset:
            zone = dt.datetime.strptime(file_offset, "%z").tzinfo
        else:
            return None
        return corrected.replace(tzinfo=zone).astimezone(dt.UTC)

    def covers(self, instant: dt.datetime) -> bool:
        """Whether the instant falls within the deployment's period."""
        return self.start_at <= instant and (self.end_at is None or instant <= self.end_at)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The camera clock's time zone; UTC where it is not known."""
        return zoneinfo.ZoneInfo(self.time_zone or "UTC")

    def local(self, instant: dt.datetime) -> dt.datetime:
        """The instant as the camera clock's wall time, naive (camtrapR's clock)."""
        return instant.astimezone(self.zone).replace(tzinfo=None)


class MalfunctionPeriod(models.Model):
    """Days a deployment's camera recorded nothing: camtrapR's ProblemN_from / ProblemN_to.

    Whole days of the camera clock, as camtrapR reads problem dates: from the first day's
    start to the last day's end, except that a problem from the setup day starts at setup
    and one to the retrieval day ends at retrieval (effort.py).
    """

    class Reason(models.TextChoices):
        BATTERY = "battery", _("battery")
        CARD_FULL = "card_full", _("memory card full")
        MOVED_OR_STOLEN = "moved_or_stolen", _("camera moved or stolen")
        VIEW_BLOCKED = "view_blocked", _("view blocked")

    deployment = models.ForeignKey(
        Deployment, models.CASCADE, related_name="malfunctions", verbose_name=_("deployment")
    )
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("to"), help_text=_("The last day without records."))
    # Blank: not known, as in a camtrapR station table.
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices, blank=True)

    class Meta:
        ordering = ["deployment", "starts_on"]
        verbose_name = _("malfunction period")
        verbose_name_plural = _("malfunction periods")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="malfunction_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.starts_on:%Y-%m-%d} – {self.ends_on:%Y-%m-%d}"

    def clean(self) -> None:
        # camtrapR refuses these too: "Problem begins before Setup", "Problem ends after
        # retrieval" (compared as dates of the camera clock).
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": _("The last day comes before the first.")})
        deployment = getattr(self, "deployment", None)
        if deployment is None or deployment.start_at is None:
            return
        if self.starts_on and self.starts_on < deployment.local(deployment.start_at).date():
            raise ValidationError({"starts_on": _("This is before the deployment started.")})
        end = deployment.end_at
        if self.ends_on and end and self.ends_on > deployment.local(end).date():
            raise ValidationError({"ends_on": _("This is after the deployment ended.")})

    @staticmethod
    def overlap(periods: list[tuple[dt.date, dt.date]]) -> dt.date | None:
        """The first day two of these periods share, if any: camtrapR would take the day's
        effort away twice ("Negative effort calculated")."""
        ordered = sorted(periods)
        for earlier, later in zip(ordered, ordered[1:], strict=False):
            if later[0] <= earlier[1]:
                return later[0]
        return None


class UploadBatch(models.Model):
    deployment = models.ForeignKey(
        Deployment, models.PROTECT, related_name="batches", verbose_name=_("deployment")
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("uploaded by")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("upload batch")
        verbose_name_plural = _("upload batches")

    def __str__(self) -> str:
        return _("Batch %(id)s") % {"id": self.pk}

    def progress(self) -> dict:
        """Counts of the batch's media per state and of those truncated, and of the files
        it skipped or queued again."""
        rows = (
            self.media.order_by()
            .values_list("state")
            .annotate(count=Count("pk"), truncated=Count("pk", filter=Q(is_truncated=True)))
        )
        counts = {state: (count, truncated) for state, count, truncated in rows}
        states = {state: counts.get(state, (0, 0))[0] for state in Media.State.values}
        truncated = counts.get(Media.State.PROCESSED, (0, 0))[1]
        skipped = dict(
            self.skipped_files.order_by().values_list("reason").annotate(count=Count("pk"))
        )
        duplicates = skipped.pop(SkippedFile.Reason.DUPLICATE, 0)
        retried = skipped.pop(SkippedFile.Reason.RETRIED, 0)
        return {
            "states": states,
            "total": sum(states.values()),
            "truncated": truncated,
            "duplicates": duplicates,
            "retried": retried,
            "skipped": sum(skipped.values()),
            # Done once its images are in events too, so whoever waits for it finds them,
            # and once the earlier uploads it queued again are done.
            "done": states[Media.State.QUEUED] + states[Media.State.PROCESSING] == 0
            and not self.media.ungrouped().exists()
            and not (retried and self._retried_waiting()),
        }

    def _retried_waiting(self) -> bool:
        """Whether media of earlier batches, queued again by this one, still wait."""
        waiting = self.skipped_files.filter(
            reason=SkippedFile.Reason.RETRIED,
            duplicate_of__state__in=[Media.State.QUEUED, Media.State.PROCESSING],
        )
        return waiting.exists()


class MediaQuerySet(models.QuerySet):
    def ungrouped(self) -> MediaQuerySet:
        """Processed images with a capture time that are in no event yet."""
        return self.filter(state=Media.State.PROCESSED, event=None, captured_at__isnull=False)


class Media(models.Model):
    class Format(models.TextChoices):
        # What the file is, read from its first bytes (ingest.sniff_format), never its name.
        JPEG = "jpeg", "JPEG"
        PNG = "png", "PNG"
        TIFF = "tiff", "TIFF"
        HEIF = "heif", "HEIF"
        WEBP = "webp", "WebP"

    class State(models.TextChoices):
        QUEUED = "queued", _("queued")
        PROCESSING = "processing", _("processing")
        PROCESSED = "processed", _("processed")
        FAILED = "failed", _("failed")

    class TimeSource(models.TextChoices):
        NONE = "", _("none")
        DATETIME_ORIGINAL = "DateTimeOriginal", _("EXIF DateTimeOriginal")
        CREATE_DATE = "CreateDate", _("EXIF CreateDate")
        MAKER_NOTE = "MakerNote", _("maker note")
        FILE_NAME = "FileName", _("file name")

    class MoonPhase(models.IntegerChoices):
        NEW = 0, _("new moon")
        NEW_CRESCENT = 1, _("new crescent")
        FIRST_QUARTER = 2, _("first quarter")
        WAXING_GIBBOUS = 3, _("waxing gibbous")
        FULL = 4, _("full moon")
        WANING_GIBBOUS = 5, _("waning gibbous")
        LAST_QUARTER = 6, _("last quarter")
        OLD_CRESCENT = 7, _("old crescent")

    batch = models.ForeignKey(
        UploadBatch, models.CASCADE, related_name="media", verbose_name=_("upload batch")
    )
    # Also reachable through the batch; kept here for the deployment's timeline index.
    deployment = models.ForeignKey(
        Deployment, models.PROTECT, related_name="media", verbose_name=_("deployment")
    )
    # Unique across the whole exchange: the same file in two deployments is an upload mistake.
    # None only for an imported image known by its URL alone (source_url), never stored here.
    sha256 = models.CharField(_("SHA-256"), max_length=64, unique=True, null=True, blank=True)
    file = models.FileField(_("file"), max_length=255)
    original_name = models.CharField(_("original file name"), max_length=255)
    # The folder inside the card or archive, e.g. "StationA/PBE" (camtrapR's layout).
    folder = models.CharField(_("folder"), max_length=1024, blank=True)
    file_size = models.BigIntegerField(_("size (bytes)"))
    format = models.CharField(_("format"), max_length=4, choices=Format.choices, blank=True)

    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    # A fixed English sentence, translated when shown, and untranslated detail (numbers,
    # the library's own message) that only site admins see.
    failure_reason = models.TextField(_("failure reason"), blank=True)
    failure_detail = models.TextField(_("failure detail"), blank=True)
    attempt_count = models.PositiveSmallIntegerField(_("processing attempts"), default=0)
    created_at = models.DateTimeField(_("uploaded at"), default=timezone.now, editable=False)
    # When its processing was last sent to the broker (None: the broker could not take it)
    # and last started by a worker: the sweep (sweep.py) sends again what was lost.
    sent_at = models.DateTimeField(_("sent for processing at"), null=True, blank=True)
    started_at = models.DateTimeField(_("processing started at"), null=True, blank=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)

    width = models.PositiveIntegerField(_("width"), null=True, blank=True)
    height = models.PositiveIntegerField(_("height"), null=True, blank=True)
    # The camera clock reading as the file states it (ISO 8601, no zone), and the true UTC
    # instant derived from it with the deployment's time zone and clock correction.
    camera_time = models.CharField(_("camera time"), max_length=32, blank=True)
    camera_offset = models.CharField(_("camera UTC offset"), max_length=6, blank=True)
    capture_time_source = models.CharField(
        _("capture time source"), max_length=20, choices=TimeSource.choices, blank=True
    )
    captured_at = models.DateTimeField(_("captured at (UTC)"), null=True, blank=True)
    is_outside_deployment = models.BooleanField(_("outside the deployment period"), default=False)
    # Its file ends before its image data does (a camera that lost power while writing it):
    # processed from what was saved, with a warning, and counted on its batch's page. The
    # database default serves rows written outside Django (bench/browse.py).
    is_truncated = models.BooleanField(_("image data cut short"), default=False, db_default=False)

    make = models.CharField(_("make"), max_length=255, blank=True)
    model = models.CharField(_("model"), max_length=255, blank=True)
    serial_number = models.CharField(_("serial number"), max_length=255, blank=True)
    orientation = models.PositiveSmallIntegerField(_("orientation"), null=True, blank=True)
    exposure_time = models.FloatField(_("exposure time (s)"), null=True, blank=True)
    iso = models.PositiveIntegerField(_("ISO"), null=True, blank=True)
    flash = models.PositiveSmallIntegerField(_("flash"), null=True, blank=True)
    gps_latitude = models.FloatField(_("GPS latitude"), null=True, blank=True)
    gps_longitude = models.FloatField(_("GPS longitude"), null=True, blank=True)
    gps_altitude = models.FloatField(_("GPS altitude (m)"), null=True, blank=True)
    image_description = models.TextField(_("image description"), blank=True)
    # An imported image that stays where its package says it is: no file, no derivatives.
    source_url = models.URLField(_("URL of the imported image"), max_length=1024, blank=True)
    # Its id in the Camtrap DP package it was imported from (camtrapdp_import.py), prefixed
    # with the package's id: importing the package again finds it instead of adding it twice.
    source_id = models.CharField(
        _("id in the imported package"), max_length=255, blank=True, db_index=True
    )

    temperature = models.SmallIntegerField(_("temperature (°C)"), null=True, blank=True)
    moon_phase = models.PositiveSmallIntegerField(
        _("moon phase"), choices=MoonPhase.choices, null=True, blank=True
    )
    trigger_mode = models.CharField(_("trigger mode"), max_length=20, blank=True)
    sequence_number = models.PositiveIntegerField(_("image in sequence"), null=True, blank=True)
    sequence_length = models.PositiveIntegerField(_("images in sequence"), null=True, blank=True)
    event_number = models.PositiveIntegerField(_("event number"), null=True, blank=True)
    user_label = models.CharField(_("camera label"), max_length=255, blank=True)
    maker_note_time = models.CharField(_("maker-note time"), max_length=32, blank=True)

    exif = models.JSONField(_("raw EXIF tags"), default=dict, blank=True)
    # Metadata problems that did not stop the file from being processed.
    warnings = models.JSONField(_("warnings"), default=list, blank=True)
    thumbnail = models.FileField(_("thumbnail"), max_length=255, blank=True)
    preview = models.FileField(_("preview"), max_length=255, blank=True)

    # Set once processed with a capture time: the sequence this image belongs to.
    event = models.ForeignKey(
        "Event", models.SET_NULL, null=True, blank=True, related_name="media",
        verbose_name=_("event"),
    )  # fmt: skip
    # The species its card folder names (camtrapR's Station/Species layout), once the batch's
    # folder names are mapped.
    folder_species = models.ForeignKey(
        Species, models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("species of its folder"),
    )  # fmt: skip

    objects = MediaQuerySet.as_manager()

    class Meta:
        ordering = ["deployment", "captured_at", "camera_time", "pk"]
        verbose_name = _("media")
        verbose_name_plural = _("media")
        indexes = [
            # The deployment's media list, in time order.
            models.Index(fields=["deployment", "captured_at"], name="media_deployment_time"),
            # Batch progress: counts per state.
            models.Index(fields=["batch", "state"], name="media_batch_state"),
            # An event's images, in time order.
            models.Index(fields=["event", "captured_at"], name="media_event_time"),
            # The few processed images still waiting to be grouped into events.
            models.Index(
                fields=["deployment", "captured_at"],
                name="media_ungrouped",
                condition=Q(event=None, captured_at__isnull=False),
            ),
            # The sweep: images waiting for a worker, in the order they were sent ...
            models.Index(fields=["sent_at"], name="media_queued", condition=Q(state="queued")),
            # ... when workers last started one ...
            models.Index(fields=["started_at"], name="media_started"),
            # ... and images a worker started long ago and never finished (it died).
            models.Index(
                fields=["started_at"], name="media_processing", condition=Q(state="processing")
            ),
        ]

    def __str__(self) -> str:
        return self.original_name

    @property
    def content_type(self) -> str:
        """The media type the original is served as: its sniffed format's, never its name's."""
        return FORMAT_TYPES.get(self.format, ("application/octet-stream", ""))[0]

    @property
    def suffix(self) -> str:
        """The file name suffix of its sniffed format, e.g. ".jpg"; "" if not known."""
        return FORMAT_TYPES.get(self.format, ("", ""))[1]

    @property
    def shows_in_browser(self) -> bool:
        """Whether browsers display the original as an image (else it is a download)."""
        return self.format in BROWSER_FORMATS

    @property
    def has_capture_time(self) -> bool:
        return bool(self.camera_time)

    @property
    def exposure_time_label(self) -> str:
        """The exposure as photographers write it: "1/30 s" below a second, else "2.5 s"."""
        if not self.exposure_time:
            return ""
        if self.exposure_time < 1:
            return f"1/{round(1 / self.exposure_time)} s"
        return f"{self.exposure_time:g} s"

    @property
    def trigger_mode_label(self) -> str:
        return str(TRIGGER_MODES.get(self.trigger_mode, self.trigger_mode))

    @property
    def flash_fired(self) -> bool | None:
        # EXIF Flash is a bit field; bit 0 says whether the flash fired.
        return None if self.flash is None else bool(self.flash & 1)

    def derive_capture_instant(self) -> None:
        """The UTC instant and the out-of-period flag, from the camera time and deployment."""
        self.captured_at = None
        if self.camera_time:
            camera_time = dt.datetime.fromisoformat(self.camera_time)
            self.captured_at = self.deployment.to_utc(camera_time, self.camera_offset)
        self.is_outside_deployment = self.captured_at is not None and not self.deployment.covers(
            self.captured_at
        )

    def mark_failed(self, reason: str, detail: str = "") -> None:
        self.state = self.State.FAILED
        self.failure_reason = reason
        self.failure_detail = detail
        self.processed_at = timezone.now()
        self.save(update_fields=["state", "failure_reason", "failure_detail", "processed_at"])


FORMAT_TYPES = {
    Media.Format.JPEG: ("image/jpeg", ".jpg"),
    Media.Format.PNG: ("image/png", ".png"),
    Media.Format.TIFF: ("image/tiff", ".tif"),
    Media.Format.HEIF: ("image/heic", ".heic"),
    Media.Format.WEBP: ("image/webp", ".webp"),
}
BROWSER_FORMATS = {Media.Format.JPEG, Media.Format.PNG, Media.Format.WEBP}

# Reconyx trigger codes (ExifTool's Reconyx.pm); other codes are shown as written.
TRIGGER_MODES = {"M": _("motion"), "T": _("time lapse"), "P": _("point and shoot")}


class SkippedFile(models.Model):
    class Reason(models.TextChoices):
        DUPLICATE = "duplicate", _("duplicate of a file already uploaded")
        # The same file as a failed media of the uploader's team, which it queued again.
        RETRIED = "retried", _("failed before, processed again")
        NOT_AN_IMAGE = "not_an_image", _("not an image")
        UNSAFE_PATH = "unsafe_path", _("unsafe path in archive")
        ARCHIVE_LIMIT = "archive_limit", _("archive limit reached")
        TOO_LARGE = "too_large", _("file larger than allowed")
        BATCH_LIMIT = "batch_limit", _("too many files in the batch")
        BROKEN_ARCHIVE = "broken_archive", _("broken archive")

    batch = models.ForeignKey(
        UploadBatch, models.CASCADE, related_name="skipped_files", verbose_name=_("upload batch")
    )
    name = models.CharField(_("name"), max_length=1024)
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    # What the uploader is told: a fixed English sentence, translated when shown. The detail
    # (sizes, limits, the library's own message) is for site admins.
    message = models.TextField(_("message"), blank=True)
    detail = models.TextField(_("detail"), blank=True)
    duplicate_of = models.ForeignKey(
        Media,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("duplicate of"),
    )

    class Meta:
        ordering = ["batch", "pk"]
        verbose_name = _("skipped file")
        verbose_name_plural = _("skipped files")

    def __str__(self) -> str:
        return self.name


class ResumableUpload(models.Model):
    """A file being sent over the tus protocol (resumable.py): its bytes so far lie on disk
    under FILE_UPLOAD_TEMP_DIR; once the last one arrives it joins its batch like any
    upload. Kept after that, so a client that lost the last answer learns it is complete,
    until the sweep removes it RESUMABLE_UPLOAD_KEEP_DAYS after its last change."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+")
    deployment = models.ForeignKey(Deployment, models.CASCADE, related_name="+")
    batch = models.ForeignKey(UploadBatch, models.CASCADE, related_name="+")
    # The path inside the chosen folder, e.g. "StationA/PBE/IMG_0001.JPG" (folders.py).
    path = models.CharField(max_length=1024)
    size = models.BigIntegerField()
    offset = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        # The sweep's lookup of uploads left alone for RESUMABLE_UPLOAD_KEEP_DAYS.
        indexes = [models.Index(fields=["updated_at"], name="resumable_updated")]

    def __str__(self) -> str:
        return self.path

    @property
    def is_complete(self) -> bool:
        return self.offset == self.size


class Event(models.Model):
    """A sequence: consecutive images of one deployment closer together than its gap."""

    deployment = models.ForeignKey(
        Deployment, models.CASCADE, related_name="events", verbose_name=_("deployment")
    )
    start_at = models.DateTimeField(_("start"))
    end_at = models.DateTimeField(_("end"))
    media_count = models.PositiveIntegerField(_("images"), default=0)
    # Its id in the Camtrap DP package it was imported from (camtrapdp_import.py), prefixed
    # with the package's id: importing the package again finds it instead of adding it twice.
    source_id = models.CharField(
        _("id in the imported package"), max_length=255, blank=True, db_index=True
    )

    class Meta:
        ordering = ["deployment", "start_at", "pk"]
        verbose_name = _("event")
        verbose_name_plural = _("events")
        indexes = [
            # Stepping through a deployment's events, and finding those an image touches.
            models.Index(fields=["deployment", "start_at", "id"], name="event_deployment_start"),
        ]

    def __str__(self) -> str:
        return f"{self.deployment.location} · {self.start_at:%Y-%m-%d %H:%M:%S}"

    def placement(self) -> dict:
        """Where and when the event is, as copied onto its sightings for browsing."""
        zone = zoneinfo.ZoneInfo(self.deployment.time_zone or "UTC")
        local = self.start_at.astimezone(zone)
        return {
            "observed_at": self.start_at,
            "location_id": self.deployment.location_id,
            "local_date": local.date(),
            "local_minute": local.hour * 60 + local.minute,
        }


class Individual(models.Model):
    """A known animal, e.g. a tiger told apart by its stripes, shared across borders."""

    species = models.ForeignKey(
        Species, models.PROTECT, related_name="individuals", verbose_name=_("species")
    )
    code = models.CharField(_("code"), max_length=50, unique=True, help_text=_("e.g. PT-RU-042"))
    name = models.CharField(_("name"), max_length=200, blank=True)
    sex = models.CharField(_("sex"), max_length=10, choices=Sex.choices, blank=True)
    team = models.ForeignKey(
        Team, models.PROTECT, related_name="individuals", verbose_name=_("named by")
    )
    notes = models.TextField(_("notes"), blank=True)
    reference_media = models.ManyToManyField(
        Media, blank=True, related_name="+", verbose_name=_("reference images")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["code"]
        verbose_name = _("individual")
        verbose_name_plural = _("individuals")

    def __str__(self) -> str:
        return f"{self.code} {self.name}".strip()


class Sighting(models.Model):
    """What an event shows (a Camtrap DP observation); species None means not named yet."""

    class Method(models.TextChoices):
        HUMAN = "human", _("by a person")
        FOLDER = "folder", _("from the folder name")
        IMPORTED = "imported", _("imported")
        MACHINE = "machine", _("by a machine")

    class Review(models.TextChoices):
        PENDING = "pending", _("waiting for review")
        APPROVED = "approved", _("approved")
        RETURNED = "returned", _("returned to the uploader")
        REJECTED = "rejected", _("rejected")

    class LifeStage(models.TextChoices):
        ADULT = "adult", _("adult")
        SUBADULT = "subadult", _("subadult")
        JUVENILE = "juvenile", _("juvenile")

    # Camtrap DP classificationMethod: the two ways a package may say it was classified.
    PACKAGE_METHODS = [(Method.HUMAN.value, Method.HUMAN.label),
                       (Method.MACHINE.value, Method.MACHINE.label)]  # fmt: skip

    event = models.ForeignKey(
        Event, models.CASCADE, related_name="sightings", verbose_name=_("event")
    )
    species = models.ForeignKey(
        Species, models.PROTECT, null=True, blank=True, related_name="sightings",
        verbose_name=_("species"),
    )  # fmt: skip
    count = models.PositiveIntegerField(_("count"), null=True, blank=True)
    sex = models.CharField(_("sex"), max_length=10, choices=Sex.choices, blank=True)
    life_stage = models.CharField(
        _("life stage"), max_length=10, choices=LifeStage.choices, blank=True
    )
    behaviour = models.CharField(_("behaviour"), max_length=255, blank=True)
    individual = models.ForeignKey(
        Individual, models.PROTECT, null=True, blank=True, related_name="sightings",
        verbose_name=_("individual"),
    )  # fmt: skip
    comment = models.TextField(_("comment"), blank=True)
    classified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("classified by"),
    )  # fmt: skip
    classified_at = models.DateTimeField(_("classified at"), null=True, blank=True)
    classification_method = models.CharField(
        _("classified how"), max_length=10, choices=Method.choices, blank=True
    )
    # Imported sightings (classification_method "imported"): who named it and how, as the
    # package says (Camtrap DP classifiedBy, classificationMethod), so that it is exported
    # again as it came. The person is a name, not one of our users.
    classified_by_name = models.CharField(_("classified by (name)"), max_length=255, blank=True)
    source_classification_method = models.CharField(
        _("classified how, in the imported package"), max_length=10, blank=True,
        choices=PACKAGE_METHODS,
    )  # fmt: skip
    review_status = models.CharField(
        _("review status"), max_length=10, choices=Review.choices, default=Review.PENDING
    )
    # camtrapR's rule with the site's settings (INDEPENDENCE_*), kept up to date by a task.
    is_independent = models.BooleanField(_("independent detection"), default=False)
    # Copied from the event (Event.placement) so that a million sightings filter and sort on
    # their own indexes: the start, the location, and the local date and minute of the day.
    observed_at = models.DateTimeField(_("observed at (UTC)"))
    location = models.ForeignKey(
        Location,
        models.PROTECT,
        related_name="sightings",
        verbose_name=_("location"),
        db_index=False,  # the indexes below lead with it
    )
    local_date = models.DateField(_("local date"))
    local_minute = models.PositiveSmallIntegerField(_("local time of day (minutes)"))
    # Raised by every save: a save that names an older version lost a race and is refused.
    version = models.PositiveIntegerField(_("version"), default=1)
    # Its id in the Camtrap DP package it was imported from (camtrapdp_import.py), prefixed
    # with the package's id: importing the package again finds it instead of adding it twice.
    source_id = models.CharField(
        _("id in the imported package"), max_length=255, blank=True, db_index=True
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["event", "pk"]
        verbose_name = _("sighting")
        verbose_name_plural = _("sightings")
        indexes = [
            # The time series of one species, for independence and the record table.
            models.Index(fields=["species", "event"], name="sighting_species_event"),
            # The browser's default order and its keyset pages.
            models.Index(fields=["-observed_at", "-id"], name="sighting_browse"),
            # The browser filtered by species or by location, in its order.
            models.Index(fields=["species", "-observed_at", "-id"], name="sighting_browse_species"),
            models.Index(
                fields=["location", "-observed_at", "-id"], name="sighting_browse_location"
            ),
            # What a user may see, counted per station (map, GeoJSON, the count): read from
            # this index alone, half the time of reading the table.
            models.Index(fields=["location", "review_status"], name="sighting_location_review"),
        ]

    def __str__(self) -> str:
        return str(self.species) if self.species else str(_("not named yet"))

    @property
    def is_draft(self) -> bool:
        return self.species_id is None


class MediaObservation(models.Model):
    """A media-based observation of an imported Camtrap DP package: what one image shows,
    as the package says it. An image may have several (an adult and her nine young, two
    species), so they are rows of their own; sightings stay what events show."""

    media = models.ForeignKey(
        Media, models.CASCADE, related_name="observations", verbose_name=_("media")
    )
    # None: not classified yet (observationType "unclassified").
    species = models.ForeignKey(
        Species, models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("species"),
    )  # fmt: skip
    count = models.PositiveIntegerField(_("count"), null=True, blank=True)
    sex = models.CharField(_("sex"), max_length=10, choices=Sex.choices, blank=True)
    life_stage = models.CharField(
        _("life stage"), max_length=10, choices=Sighting.LifeStage.choices, blank=True
    )
    behaviour = models.CharField(_("behaviour"), max_length=255, blank=True)
    individual = models.ForeignKey(
        Individual, models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("individual"),
    )  # fmt: skip
    classification_method = models.CharField(
        _("classified how"), max_length=10, blank=True,
        choices=Sighting.PACKAGE_METHODS,
    )  # fmt: skip
    classified_by_name = models.CharField(_("classified by (name)"), max_length=255, blank=True)
    classified_at = models.DateTimeField(_("classified at"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    # Its observationID in the package, prefixed with the package's id, as Sighting.source_id.
    source_id = models.CharField(_("id in the imported package"), max_length=255, blank=True)

    class Meta:
        ordering = ["media", "pk"]
        verbose_name = _("media observation")
        verbose_name_plural = _("media observations")
        indexes = [
            # Importing a package again finds each image's observations by their ids.
            models.Index(fields=["media", "source_id"], name="media_observation_source"),
        ]

    def __str__(self) -> str:
        return str(self.species) if self.species else str(_("not named yet"))


class AppendOnlyQuerySet(models.QuerySet):
    """History is only ever added to: bulk updates and deletes are refused like single ones
    (bulk_update goes through update() too). PostgreSQL refuses them as well (migration 0013)."""

    def update(self, **kwargs):
        raise IntegrityError(_HISTORY_IS_APPEND_ONLY)

    def delete(self):
        raise IntegrityError(_HISTORY_IS_APPEND_ONLY)


# IntegrityError, as the PostgreSQL trigger raises it: one exception whichever layer refuses.
_HISTORY_IS_APPEND_ONLY = "Sighting history is append-only: it is never changed or deleted."


class SightingChange(models.Model):
    """One change to a sighting: who, when, how, and each field's value before and after.

    Append-only. It outlives its sighting: the pipeline deletes drafts and folder sightings
    that are no longer wanted (events.py), and what was said about them stays on record. Hence
    no database foreign key and no cascade; people who changed history are never deleted
    (deactivate them instead).
    """

    sighting = models.ForeignKey(
        Sighting, models.DO_NOTHING, related_name="changes", verbose_name=_("sighting"),
        db_constraint=False,
    )  # fmt: skip
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("changed by"),
    )  # fmt: skip
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)
    method = models.CharField(_("how"), max_length=10, choices=Sighting.Method.choices, blank=True)
    # {"species": ["", "Amur tiger (Panthera tigris altaica)"], "count": ["", "2"]}
    changes = models.JSONField(_("changes"), default=dict)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["sighting", "changed_at", "pk"]
        verbose_name = _("sighting change")
        verbose_name_plural = _("sighting changes")

    def __str__(self) -> str:
        return f"{self.sighting_id} {self.changed_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise IntegrityError(_HISTORY_IS_APPEND_ONLY)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise IntegrityError(_HISTORY_IS_APPEND_ONLY)


class NotificationSettings(models.Model):
    """What a person wants to be told by e-mail, and when they last were."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="notification_settings",
        verbose_name=_("user"),
    )  # fmt: skip
    review_digest = models.BooleanField(
        _("daily review e-mail"),
        default=True,
        help_text=_("At most once a day: how many sightings wait for your review and how "
                    "many came back to you."),
    )  # fmt: skip
    # At most one digest a day: the command skips whoever was sent one less than a day ago.
    digest_sent_at = models.DateTimeField(_("last digest sent at"), null=True, blank=True)
    cross_border = models.BooleanField(
        _("individuals across the border"),
        default=True,
        help_text=_("When an individual your team recorded or named is first recorded in "
                    "another country."),
    )  # fmt: skip

    class Meta:
        verbose_name = _("notification settings")
        verbose_name_plural = _("notification settings")

    def __str__(self) -> str:
        return str(self.user)


class BatchFolder(models.Model):
    """A species folder name found in an upload batch, and what it was taken to mean."""

    batch = models.ForeignKey(
        UploadBatch, models.CASCADE, related_name="folders", verbose_name=_("upload batch")
    )
    name = models.CharField(_("folder name"), max_length=255)
    species = models.ForeignKey(
        Species, models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("species"),
    )  # fmt: skip
    is_ignored = models.BooleanField(_("ignored"), default=False)
    # Answered by the team's earlier answer for the same name (FolderAnswer), not asked.
    is_remembered = models.BooleanField(_("answered from the team's earlier answer"), default=False)

    class Meta:
        ordering = ["batch", "name"]
        verbose_name = _("batch folder")
        verbose_name_plural = _("batch folders")
        constraints = [
            models.UniqueConstraint(fields=["batch", "name"], name="unique_folder_per_batch"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_answered(self) -> bool:
        return self.is_ignored or self.species_id is not None


class FolderAnswer(models.Model):
    """What a team said a card folder name means (a species, or nothing: ignored), applied to
    the folders of its next cards instead of asking again. Field teams keep their habits:
    a camtrapR short code such as PBE means the same on every card of theirs."""

    team = models.ForeignKey(
        Team, models.CASCADE, related_name="folder_answers", verbose_name=_("team")
    )
    name = models.CharField(_("folder name"), max_length=255)
    # The name casefolded, once, in Python: a database's lower() does not fold as Python does.
    key = models.CharField(max_length=255, editable=False)
    species = models.ForeignKey(
        Species, models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("species"),
    )  # fmt: skip
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("answered by"),
    )  # fmt: skip
    answered_at = models.DateTimeField(_("answered at"), default=timezone.now)

    class Meta:
        ordering = ["team", "key"]
        verbose_name = _("folder answer")
        verbose_name_plural = _("folder answers")
        constraints = [
            models.UniqueConstraint(fields=["team", "key"], name="unique_folder_answer_per_team"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.key = self.name.casefold()
        super().save(*args, **kwargs)


class PendingIndependence(models.Model):
    """A location's species whose independent detections must be worked out again.

    One row however many sightings changed: a burst of changes (a card being named) costs
    one recomputation, not one per change.
    """

    location = models.ForeignKey(Location, models.CASCADE, related_name="+")
    species = models.ForeignKey(Species, models.CASCADE, related_name="+")
    # When its task was sent (None: the broker could not take it); the sweep sends it again.
    sent_at = models.DateTimeField(null=True, default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["location", "species"], name="unique_pending_series"),
        ]

    def __str__(self) -> str:
        return f"{self.location_id}/{self.species_id}"


class PendingGrouping(models.Model):
    """A deployment whose images wait to be grouped into events: the newly processed ones,
    or all of them again (everything: its clock, period, gap or station changed).

    One row of each kind however many images are waiting: a card being processed is grouped
    in a few runs, not once per image.
    """

    deployment = models.ForeignKey(Deployment, models.CASCADE, related_name="+")
    everything = models.BooleanField(default=False)
    # When its task was sent (None: the broker could not take it); the sweep sends it again.
    sent_at = models.DateTimeField(null=True, default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["deployment", "everything"], name="unique_pending_grouping"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.deployment_id}{' (everything)' if self.everything else ''}"


class WorkerHeartbeat(models.Model):
    """When a Celery worker was last heard from: pages say when none has been for a while."""

    hostname = models.CharField(max_length=255, unique=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.hostname} {self.seen_at:%Y-%m-%d %H:%M:%S}"


class ExportJob(models.Model):
    """A Camtrap DP package built by a worker for a set too large to build while the
    request waits: the browser's filters it was asked with, and how far it has come."""

    class State(models.TextChoices):
        QUEUED = "queued", _("waiting for a worker")
        BUILDING = "building", _("writing the tables")
        VALIDATING = "validating", _("validating the package")
        READY = "ready", _("ready")
        FAILED = "failed", _("failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="+", verbose_name=_("owner")
    )
    # The browser's query string; applied again, with the owner's rights at the time, by
    # the worker.
    filters = models.TextField(_("filters"), blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    total = models.PositiveIntegerField(_("sightings to export"), default=0)
    done = models.PositiveIntegerField(_("sightings written"), default=0)
    file = models.FileField(_("file"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    # When the job was sent, or last heard from while running (camtrapdp_jobs.Heartbeat): a
    # job not heard from for EXPORT_STALL_MINUTES lost its worker.
    progress_at = models.DateTimeField(_("last progress at"), default=timezone.now)
    # Sent again once after its worker was lost; failed the second time (camtrapdp_jobs.py).
    attempt_count = models.PositiveSmallIntegerField(_("times sent again"), default=0)
    # A fixed English sentence, translated when shown.
    failure_reason = models.TextField(_("failure reason"), blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    # Not finished: waiting for a worker, or with one.
    RUNNING = (State.BUILDING, State.VALIDATING)
    ACTIVE = (State.QUEUED, *RUNNING)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("export")
        verbose_name_plural = _("exports")

    def __str__(self) -> str:
        return f"{self.owner} {self.created_at:%Y-%m-%d %H:%M}"


class IndividualCountry(models.Model):
    """A country where an individual was recorded: where and when an approved sighting of it
    there was first approved (crossborder.py).

    One row per individual and country: the approval that inserts it is the one that tells
    the teams, so they are told once, however often or concurrently sightings are approved.
    """

    individual = models.ForeignKey(
        Individual, models.CASCADE, related_name="countries", verbose_name=_("individual")
    )
    country = models.CharField(_("country"), max_length=2, choices=Country.choices)
    # The sighting that recorded it there first; None once that sighting is gone.
    sighting = models.ForeignKey(
        Sighting, models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("sighting"),
    )  # fmt: skip
    observed_on = models.DateField(_("first recorded on"))
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["individual", "recorded_at", "pk"]
        verbose_name = _("country of an individual")
        verbose_name_plural = _("countries of individuals")
        constraints = [
            models.UniqueConstraint(
                fields=["individual", "country"], name="unique_country_per_individual"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.individual} · {self.country}"


class CrossBorderNotice(models.Model):
    """Telling one person that an individual was first recorded in another country: on the
    notifications page until seen, and by e-mail unless they turned it off."""

    record = models.ForeignKey(
        IndividualCountry, models.CASCADE, related_name="notices", verbose_name=_("country")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="cross_border_notices",
        verbose_name=_("user"),
    )  # fmt: skip
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    seen_at = models.DateTimeField(_("seen at"), null=True, blank=True)
    # When its e-mail task was sent (None: the broker could not take it; the sweep sends it
    # again), and when the e-mail was sent or found not wanted (no address, turned off).
    sent_at = models.DateTimeField(null=True, default=timezone.now)
    mailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("cross-border notice")
        verbose_name_plural = _("cross-border notices")
        constraints = [
            models.UniqueConstraint(fields=["record", "user"], name="one_notice_per_person"),
        ]
        indexes = [
            # The navigation's count of a person's unseen notices, on every page.
            models.Index(fields=["user"], name="notice_unseen", condition=Q(seen_at=None)),
            # The sweep: e-mails whose task may have been lost.
            models.Index(fields=["sent_at"], name="notice_unmailed", condition=Q(mailed_at=None)),
        ]

    def __str__(self) -> str:
        return f"{self.record} → {self.user}"


class ImportJob(models.Model):
    """A Camtrap DP package uploaded from the browser for one team and imported by a
    worker: how far it has come, then what it created or why it was refused."""

    class State(models.TextChoices):
        QUEUED = "queued", _("waiting for a worker")
        VALIDATING = "validating", _("validating the package")
        IMPORTING = "importing", _("importing")
        DONE = "done", _("imported")
        REFUSED = "refused", _("refused: the package does not validate")
        FAILED = "failed", _("failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="+", verbose_name=_("owner")
    )
    team = models.ForeignKey(Team, models.CASCADE, related_name="+", verbose_name=_("team"))
    # The uploaded zip, removed EXPORT_KEEP_DAYS after the job was created.
    file = models.FileField(_("file"), max_length=255, blank=True)
    name = models.CharField(_("file name"), max_length=255, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    # Rows created per table ({"deployments": 4, ...}), and the package's images sent
    # through the upload pipeline.
    counts = models.JSONField(_("created"), default=dict, blank=True)
    media_files = models.PositiveIntegerField(_("image files sent for processing"), default=0)
    # Why the package was refused: the validation's own messages, and nothing was written.
    errors = models.JSONField(_("errors"), default=list, blank=True)
    failure_reason = models.TextField(_("failure reason"), blank=True)
    attempt_count = models.PositiveSmallIntegerField(_("times sent again"), default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    progress_at = models.DateTimeField(_("last progress at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    RUNNING = (State.VALIDATING, State.IMPORTING)
    ACTIVE = (State.QUEUED, *RUNNING)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self) -> str:
        return f"{self.team} {self.name} {self.created_at:%Y-%m-%d %H:%M}"
