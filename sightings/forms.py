from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from sightings import ingest, members
from sightings.classification import Naming
from sightings.models import (
    Deployment,
    Individual,
    Location,
    MalfunctionPeriod,
    Membership,
    Sex,
    Sighting,
    Species,
    Team,
)


class FitsTheDatabase:
    """For fields choosing objects by id: an id past 64 bits names nothing of ours, and is
    refused as such before the database is asked (SQLite cannot even be asked: it raises
    OverflowError, a server error)."""

    def _check_values(self, value):
        for pk in value:
            try:
                too_large = abs(int(pk)) >= 2**63
            except (TypeError, ValueError):
                too_large = False  # not a number: Django's own check says so
            if too_large:
                raise ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": pk},
                )
        return super()._check_values(value)


class IdsField(FitsTheDatabase, forms.ModelMultipleChoiceField):
    """Several objects chosen by id."""


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def __init__(self, **kwargs) -> None:
        # An empty file from a card is listed as skipped, with its reason; it must not make
        # the whole upload invalid.
        super().__init__(allow_empty_file=True, **kwargs)

    def clean(self, data, initial=None) -> list:
        if isinstance(data, list | tuple) and data:
            return [super(MultipleFileField, self).clean(item, initial) for item in data]
        # No file at all (an empty list passes FileField's own check): required.
        return [super().clean(data or None, initial)]


class UploadForm(forms.Form):
    files = MultipleFileField(
        label=_("Images or ZIP archives of a card"),
        widget=MultipleFileInput(attrs={"accept": "image/*,.heic,.heif,.zip"}),
    )
    # Sent by the upload page's script: the batch the files join, and each file's path
    # inside the chosen folder (e.g. "StationA/PBE/IMG_0001.JPG").
    batch = forms.IntegerField(required=False, widget=forms.HiddenInput)
    paths = forms.Field(required=False, widget=forms.MultipleHiddenInput)

    def clean(self) -> dict:
        cleaned = super().clean()
        files, paths = cleaned.get("files") or [], cleaned.get("paths") or []
        if paths and len(paths) != len(files):
            raise forms.ValidationError(_("Each file needs exactly one path."))
        cleaned["paths"] = paths or [""] * len(files)
        return cleaned


class ImportForm(forms.Form):
    package = forms.FileField(
        label=_("Camtrap DP package (ZIP)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".zip,application/zip"}),
    )

    def clean_package(self):
        package = self.cleaned_data["package"]
        if isinstance(package, ingest.OversizeUpload):
            raise forms.ValidationError(_(ingest.TOO_LARGE))
        # Typed by its first bytes, never its name.
        if not ingest.read_head(package).startswith(ingest.ZIP_SIGNATURE):
            raise forms.ValidationError(
                _("The file is not a ZIP archive. Upload the package as a .zip of its "
                  "datapackage.json, deployments.csv, media.csv and observations.csv.")
            )  # fmt: skip
        return package


def check_individual(species: Species | None, individual: Individual | None) -> None:
    """An individual named on a sighting is of the sighting's species."""
    if species and individual and individual.species_id != species.pk:
        raise forms.ValidationError(
            _("%(code)s is a %(species)s."),
            params={"code": individual.code, "species": individual.species},
        )


class NamingForm(forms.Form):
    """What a person says an event shows. The species may be typed in any of our languages."""

    species = forms.CharField(label=_("Species"), max_length=300)
    count = forms.IntegerField(label=_("Count"), min_value=1, required=False)
    sex = forms.ChoiceField(label=_("Sex"), choices=[("", "—"), *Sex.choices], required=False)
    life_stage = forms.ChoiceField(
        label=_("Life stage"), choices=[("", "—"), *Sighting.LifeStage.choices], required=False
    )
    behaviour = forms.CharField(label=_("Behaviour"), max_length=255, required=False)
    individual = forms.CharField(label=_("Individual"), max_length=50, required=False)
    comment = forms.CharField(
        label=_("Comment"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def clean_species(self) -> Species:
        species = Species.objects.all().find(self.cleaned_data["species"])
        if species is None:
            raise forms.ValidationError(_("No species in the catalogue goes by that name."))
        return species

    def clean_individual(self) -> Individual | None:
        code = self.cleaned_data["individual"].strip()
        if not code:
            return None
        individual = Individual.objects.select_related("species").filter(code__iexact=code).first()
        if individual is None:
            raise forms.ValidationError(
                _("No individual has the code %(code)s."), params={"code": code}
            )
        return individual

    def clean(self) -> dict:
        cleaned = super().clean()
        check_individual(cleaned.get("species"), cleaned.get("individual"))
        return cleaned

    def naming(self) -> Naming:
        data = self.cleaned_data
        fields = ("species", "count", "sex", "life_stage", "behaviour", "individual", "comment")
        return Naming(**{name: data[name] for name in fields})


class FolderAnswerForm(forms.Form):
    """One unknown card folder name: the species it stands for, or ignore it. Ignoring is a
    checkbox, so that nobody has to type a word of English (or know which word)."""

    answer = forms.CharField(label=_("Species"), max_length=300, required=False)
    ignore = forms.BooleanField(label=_("Ignore this folder"), required=False)

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("ignore"):
            cleaned["species"] = None
            return cleaned
        cleaned["species"] = Species.objects.all().find(cleaned.get("answer", ""))
        if cleaned["species"] is None:
            raise forms.ValidationError(_("No species in the catalogue goes by that name."))
        return cleaned


class IndividualForm(forms.ModelForm):
    class Meta:
        model = Individual
        fields = ["species", "code", "name", "sex", "team", "notes"]

    def __init__(self, *args, teams, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams
        self.fields["species"].queryset = Species.objects.filter(kind=Species.Kind.ANIMAL)


class RecordTableForm(forms.Form):
    location = IdsField(label=_("Locations"), queryset=Location.objects.none(), required=False)
    species = IdsField(
        label=_("Species"),
        queryset=Species.objects.exclude(kind=Species.Kind.BLANK),
        required=False,
    )
    min_delta = forms.FloatField(label=_("Minutes between independent records"), min_value=0)
    compared_to = forms.ChoiceField(
        label=_("Compared to"),
        choices=[("last", _("the last record")), ("independent", _("the last independent record"))],
    )
    # The CSV is read by camtrapR in R first of all; Excel needs the mark to read it as UTF-8.
    excel = forms.BooleanField(
        label=_("For Excel (UTF-8 with a byte-order mark)"),
        required=False,
        help_text=_("Location names in Chinese or Russian then open correctly in Excel."),
    )

    def __init__(self, *args, locations, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = locations
        # The site's own rule (settings INDEPENDENCE_*), the one that marks sightings independent.
        minutes = settings.INDEPENDENCE_MIN_DELTA_MINUTES
        self.fields["min_delta"].initial = minutes
        self.fields["compared_to"].initial = settings.INDEPENDENCE_COMPARED_TO
        self.fields["min_delta"].help_text = _site_rule(
            minutes, settings.INDEPENDENCE_COMPARED_TO
        ) % {"minutes": minutes}


def _site_rule(minutes: int, compared_to: str) -> str:
    if compared_to == "independent":
        return ngettext(
            "By default the site's rule: %(minutes)s minute after the last independent record.",
            "By default the site's rule: %(minutes)s minutes after the last independent record.",
            minutes,
        )
    return ngettext(
        "By default the site's rule: %(minutes)s minute after the last record.",
        "By default the site's rule: %(minutes)s minutes after the last record.",
        minutes,
    )


class ReviewForm(forms.Form):
    """A reviewer's decision on the version of a sighting they looked at."""

    status = forms.ChoiceField(label=_("Review"), choices=Sighting.Review.choices)
    comment = forms.CharField(label=_("Comment"), max_length=2000, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class SharingForm(forms.Form):
    """What a team shares with the others (access.py applies it)."""

    embargo_months = forms.IntegerField(
        label=_("Embargo (months)"), min_value=0, max_value=600,
        help_text=_(
            "Other teams see a record only once it is this many months old. "
            "0: as soon as it is approved."
        ),
    )  # fmt: skip
    shares_with = IdsField(
        label=_("Share with these teams"), queryset=Team.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every team. Teams left unticked see nothing of this team's."),
    )  # fmt: skip
    shared_locations = IdsField(
        label=_("Shared locations"), queryset=Location.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Other teams never see a location left unticked, nor its deployments, images "
            "or records."
        ),
    )  # fmt: skip

    def __init__(self, *args, team: Team, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["shares_with"].queryset = Team.objects.exclude(pk=team.pk)
        self.fields["shared_locations"].queryset = team.locations.order_by("name")


# A team's own pages (teams.py): members, locations, deployments.


class AddMemberForm(forms.Form):
    user = forms.CharField(label=_("User name or e-mail address"), max_length=254)
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices)

    def clean_user(self):
        user = members.find_user(self.cleaned_data["user"])
        if user is None:
            raise forms.ValidationError(
                _("Nobody has that user name or e-mail address. Invite them by e-mail instead.")
            )
        return user


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"))
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices)


class RolesForm(forms.Form):
    roles = forms.MultipleChoiceField(
        label=_("Roles"), choices=Membership.Role.choices, widget=forms.CheckboxSelectMultiple
    )


class LocationForm(forms.ModelForm):
    class Meta:
        model = Location
        fields = ["name", "latitude", "longitude", "country", "habitat"]
        widgets = {"habitat": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, team, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.instance.team = team
        self.fields["latitude"].widget.attrs.update(min=-90, max=90, step="any")
        self.fields["longitude"].widget.attrs.update(min=-180, max=180, step="any")

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        others = Location.objects.filter(team=self.instance.team, name__iexact=name)
        if others.exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(_("Your team has a location of that name already."))
        return name


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M")


class DeploymentForm(forms.ModelForm):
    class Meta:
        model = Deployment
        fields = [
            "location", "camera_make", "camera_model", "camera_serial", "start_at", "end_at",
            "time_zone", "clock_correction_seconds", "event_gap_seconds",
        ]  # fmt: skip
        widgets = {"start_at": DateTimeInput(), "end_at": DateTimeInput()}
        help_texts = {"start_at": _("In UTC."), "end_at": _("In UTC; empty while it runs.")}

    def __init__(self, *args, team, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = team.locations.all()
        # A gap of 0 s would make every image an event of its own.
        self.fields["event_gap_seconds"].validators.append(MinValueValidator(1))
        self.fields["event_gap_seconds"].widget.attrs["min"] = 1
        self.fields["time_zone"].widget.attrs["list"] = "time-zones"

    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = cleaned.get("start_at"), cleaned.get("end_at")
        if start and end and end <= start:
            self.add_error("end_at", _("The end must come after the start."))
        return cleaned


class BesideTheFilters(forms.Form):
    """Options a page shows beside the browser's filters and sends with them: each field
    names the filters' form (form="filters") from outside it, so one Filter sends all."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs["form"] = "filters"


class ActivityForm(BesideTheFilters):
    """What the activity page compares; DEFAULTS fill in what a query leaves out."""

    COMPARE = [
        ("species", _("Species with species")),
        ("countries", _("One species, country with country")),
    ]
    TIME = [("clock", _("Clock time")), ("sun", _("Sun time"))]
    DEFAULTS = {"compare": "species", "time": "clock"}

    compare = forms.ChoiceField(
        label=_("Compare"), choices=COMPARE,
        widget=forms.RadioSelect(),
    )  # fmt: skip
    time = forms.ChoiceField(
        label=_("Time of day as"), choices=TIME,
        widget=forms.RadioSelect(),
    )  # fmt: skip


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


class MalfunctionForm(forms.ModelForm):
    class Meta:
        model = MalfunctionPeriod
        fields = ["starts_on", "ends_on", "reason"]
        widgets = {"starts_on": DateInput(), "ends_on": DateInput()}
        # A row of a table, which says it all above it: no help text for each cell.
        help_texts = {"starts_on": "", "ends_on": ""}


class BaseMalfunctionFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        kept = [
            (form.cleaned_data["starts_on"], form.cleaned_data["ends_on"])
            for form in self.forms
            if form.cleaned_data.get("starts_on") and form.cleaned_data.get("ends_on")
            and not form.cleaned_data.get("DELETE")
        ]  # fmt: skip
        day = MalfunctionPeriod.overlap(kept)
        if day is not None:
            raise ValidationError(
                _("Two malfunction periods share %(day)s: a day is counted once."),
                params={"day": day.isoformat()},
            )


MalfunctionFormSet = forms.inlineformset_factory(
    Deployment,
    MalfunctionPeriod,
    form=MalfunctionForm,
    formset=BaseMalfunctionFormSet,
    extra=1,
    can_delete=True,
)


class SurveyForm(BesideTheFilters):
    """The survey page's options: the camera_operation and survey_report commands' options,
    with their defaults (unset: the command's default)."""

    min_delta = forms.FloatField(
        label=_("Minutes between independent records"), required=False, min_value=0,
        help_text=_("Empty: the site's rule, as the sightings are marked."),
        widget=forms.NumberInput(attrs={"step": "any"}),
    )  # fmt: skip
    occasion_start_hour = forms.TypedChoiceField(
        label=_("Days start at"), required=False, coerce=int, empty_value=0,
        choices=[(hour, f"{hour:02d}:00") for hour in range(24)],
    )  # fmt: skip
    no_problems = forms.BooleanField(
        label=_("Ignore malfunction periods"), required=False,
    )  # fmt: skip
    all_cams_on = forms.BooleanField(
        label=_("A station is on only while all its cameras are"), required=False,
    )  # fmt: skip
    cameras_independent = forms.BooleanField(
        label=_("A station's cameras add up"), required=False,
    )  # fmt: skip
    by_camera = forms.BooleanField(
        label=_("Camera operation: a row per camera"), required=False,
    )  # fmt: skip


class HistoryForm(BesideTheFilters):
    """The detection_history command's options on the survey page; what only camtrapR's
    rules can check is checked by occupancy.py, whose messages the page shows."""

    # Its fields are in the filters' form: "required" in the page would stop every Filter.
    use_required_attribute = False

    history_species = forms.ModelChoiceField(
        label=_("Species"), queryset=Species.objects.exclude(kind=Species.Kind.BLANK),
        error_messages={"required": _("Choose the species of the detection history.")},
    )  # fmt: skip
    occasion_length = forms.IntegerField(
        label=_("Occasion length (days)"),
        error_messages={"required": _("Give the occasion length in days.")},
    )  # fmt: skip
    day1 = forms.CharField(
        label=_("Occasions start"), required=False, max_length=20,
        help_text=_("station (each station's first day), survey (the first station's) or a "
                    "date, YYYY-MM-DD"),
        widget=forms.TextInput(attrs={"list": "day1-choices"}),
    )  # fmt: skip
    output = forms.ChoiceField(
        label=_("Output"), required=False,
        choices=[("binary", _("Detected or not (binary)")),
                 ("count", _("Number of detections (count)"))],
        widget=forms.RadioSelect(),
    )  # fmt: skip
    include_effort = forms.BooleanField(
        label=_("Include the effort"), required=False,
        help_text=_("Incomplete occasions are kept, with the effort as a matrix of its own; "
                    "without it they are NA."),
    )  # fmt: skip
    scale_effort = forms.BooleanField(
        label=_("Scale the effort"), required=False,
    )  # fmt: skip
    min_active_days = forms.FloatField(
        label=_("Fewest active days in an occasion"), required=False,
        widget=forms.NumberInput(attrs={"step": "any"}),
    )  # fmt: skip
    buffer = forms.IntegerField(
        label=_("Buffer (days)"), required=False,
    )  # fmt: skip
    max_days = forms.IntegerField(
        label=_("Most days per station"), required=False,
    )  # fmt: skip

    # What a query that names none of them means (the command's defaults).
    DEFAULTS = {"day1": "station", "output": "binary"}

    def __init__(self, data=None, **kwargs) -> None:
        if data is not None:
            data = data.copy()
            for name, value in self.DEFAULTS.items():
                data[name] = data.get(name) or value
        super().__init__(data, **kwargs)

    @staticmethod
    def asked(query) -> bool:
        """Whether the query asks for a detection history (it names its species or its
        occasion length)."""
        return bool(query.get("history_species") or query.get("occasion_length"))

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("scale_effort") and not cleaned.get("include_effort"):
            raise ValidationError(_("The effort can be scaled only when it is included."))
        return cleaned
