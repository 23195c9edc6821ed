"""The filters: one set over sightings for the browser, the map, GeoJSON, CSV and the API;
and the API's filters over the other things it lists, named as the browser names them."""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest, QueryDict
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from sightings import access
from sightings.forms import FitsTheDatabase
from sightings.models import (
    Country,
    Deployment,
    Individual,
    Location,
    Media,
    Sighting,
    Species,
    Team,
)


class IdsFilterField(FitsTheDatabase, django_filters.fields.ModelMultipleChoiceField):
    """django-filter's field for several objects, refusing ids no database integer holds."""


class IdsFilter(django_filters.ModelMultipleChoiceFilter):
    field_class = IdsFilterField


class SightingFilter(django_filters.FilterSet):
    # distinct=False on the multiple-value filters: every one follows single-valued relations,
    # so no row can appear twice, and SELECT DISTINCT would sort the whole result.
    q = django_filters.CharFilter(label=_("Search"), method="filter_text")
    # Checkboxes, shown as a searchable picker (templates/sightings/_picker.html): a list box
    # that needs Ctrl-click loses a choice at the first plain click.
    species = IdsFilter(
        distinct=False,
        label=_("Species"),
        queryset=Species.objects.order_by("kind", "name_en"),
        widget=forms.CheckboxSelectMultiple,
    )
    country = django_filters.MultipleChoiceFilter(
        distinct=False,
        label=_("Country"),
        field_name="location__country",
        choices=Country.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    team = IdsFilter(
        distinct=False,
        label=_("Team"),
        field_name="location__team",
        queryset=Team.objects.all(),
        widget=forms.CheckboxSelectMultiple,
    )
    # Tens of thousands of stations: chosen from links and search, carried as hidden ids.
    # Only those the viewer may know of: another team's station with nothing shared is
    # refused like a station that does not exist, and never named in a chip.
    location = IdsFilter(
        distinct=False,
        label=_("Location"),
        queryset=lambda request: access.locations(access.viewer(request)),
        widget=forms.MultipleHiddenInput,
    )
    deployment = django_filters.ModelChoiceFilter(
        label=_("Deployment"), field_name="event__deployment",
        queryset=lambda request: access.shared_deployments(access.viewer(request)),
        widget=forms.HiddenInput,
    )  # fmt: skip
    date_from = django_filters.DateFilter(
        label=_("From"), method="filter_date", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = django_filters.DateFilter(
        label=_("To"), method="filter_date", widget=forms.DateInput(attrs={"type": "date"})
    )
    time_from = django_filters.TimeFilter(
        label=_("Time of day from"),
        method="filter_time",
        widget=forms.TimeInput(attrs={"type": "time"}),
    )
    time_to = django_filters.TimeFilter(
        label=_("to"), method="filter_time", widget=forms.TimeInput(attrs={"type": "time"})
    )
    individual = django_filters.ModelChoiceFilter(
        label=_("Individual"), queryset=Individual.objects.all(), widget=forms.HiddenInput
    )
    review_status = django_filters.MultipleChoiceFilter(
        distinct=False,
        label=_("Review status"),
        choices=Sighting.Review.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    method = django_filters.MultipleChoiceFilter(
        distinct=False,
        label=_("Named how"),
        field_name="classification_method",
        choices=Sighting.Method.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    independent = django_filters.BooleanFilter(
        label=_("Independent detections only"), field_name="is_independent",
        method="filter_flag", widget=forms.CheckboxInput,
    )  # fmt: skip
    has_images = django_filters.BooleanFilter(
        label=_("With images only"), method="filter_images", widget=forms.CheckboxInput
    )

    class Meta:
        model = Sighting
        fields: list[str] = []

    def filter_text(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Species in any of our languages, location names and individual codes."""
        text = value.strip().casefold()
        if not text:
            return queryset
        species = [
            s.pk for s in Species.objects.all() if any(text in n.casefold() for n in s.names())
        ]
        locations = Location.objects.filter(name__icontains=value.strip())
        individuals = Individual.objects.filter(
            Q(code__icontains=value.strip()) | Q(name__icontains=value.strip())
        )
        return queryset.filter(
            Q(species__in=species) | Q(location__in=locations) | Q(individual__in=individuals)
        )

    def filter_date(self, queryset: QuerySet, name: str, value: dt.date) -> QuerySet:
        # Local dates, bounded by UTC instants a day wider too (no zone is a day away from
        # UTC): the instants let the database walk its time-ordered indexes to the range.
        if name == "date_from":
            start = dt.datetime.combine(value - dt.timedelta(days=1), dt.time(), dt.UTC)
            return queryset.filter(local_date__gte=value, observed_at__gte=start)
        end = dt.datetime.combine(value + dt.timedelta(days=2), dt.time(), dt.UTC)
        return queryset.filter(local_date__lte=value, observed_at__lt=end)

    def filter_time(self, queryset: QuerySet, name: str, value) -> QuerySet:
        # Both ends together, once: a range like 20:00 to 04:00 runs across midnight.
        if name == "time_to" and self.form.cleaned_data.get("time_from"):
            return queryset
        start, end = self.form.cleaned_data.get("time_from"), self.form.cleaned_data.get("time_to")
        first = start.hour * 60 + start.minute if start else 0
        last = end.hour * 60 + end.minute if end else 24 * 60 - 1
        if first <= last:
            return queryset.filter(local_minute__gte=first, local_minute__lte=last)
        return queryset.filter(Q(local_minute__gte=first) | Q(local_minute__lte=last))

    def filter_flag(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.filter(**{name: True}) if value else queryset

    def filter_images(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.filter(event__media_count__gt=0) if value else queryset


def for_viewer(viewer: access.Viewer, query: str) -> SightingFilter:
    """The browser's filters from a query string over what this viewer may see, for those
    that have no request of the viewer's (the worker, the commands). Check is_valid()."""
    request = HttpRequest()
    request._viewer = viewer  # what access.viewer() reads, for the filters' choices
    request.GET = QueryDict(query)
    return SightingFilter(request.GET, queryset=access.sightings(viewer), request=request)


class ReviewFilter(django_filters.FilterSet):
    """The review queue's filters, over the teams the viewer reviews for; the choices are
    theirs alone, so no other team's station or member is ever named."""

    species = SightingFilter.declared_filters["species"]
    location = IdsFilter(
        distinct=False, label=_("Location"),
        queryset=lambda request: Location.objects.filter(
            team__in=access.viewer(request).teams(access.Action.REVIEW)
        ),
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    uploader = IdsFilter(
        distinct=False, label=_("Named by"), field_name="classified_by",
        queryset=lambda request: get_user_model().objects.filter(
            memberships__team__in=access.viewer(request).teams(access.Action.REVIEW)
        ).distinct().order_by("username"),
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    method = SightingFilter.declared_filters["method"]
    sensitive_first = django_filters.BooleanFilter(
        label=_("Sensitive species first"), method="filter_sensitive_first",
        widget=forms.CheckboxInput,
    )  # fmt: skip

    class Meta:
        model = Sighting
        fields: list[str] = []

    def filter_sensitive_first(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        # The queue's order otherwise: the longest waiting first.
        if value:
            return queryset.order_by("-species__is_sensitive", "classified_at", "pk")
        return queryset


# The API's lists (api.py). Each filter is on the field the browser's filter of the same name
# follows from a sighting; what they may choose is what the viewer may know of.


def _teams(field_name: str) -> IdsFilter:
    return IdsFilter(
        distinct=False, label=_("Team"), field_name=field_name, queryset=Team.objects.all()
    )


def _countries(field_name: str) -> django_filters.MultipleChoiceFilter:
    return django_filters.MultipleChoiceFilter(
        distinct=False, label=_("Country"), field_name=field_name, choices=Country.choices
    )


def _locations(field_name: str) -> IdsFilter:
    return IdsFilter(
        distinct=False, label=_("Location"), field_name=field_name,
        queryset=lambda request: access.locations(access.viewer(request)),
    )  # fmt: skip


class SpeciesFilter(django_filters.FilterSet):
    scientific_name = django_filters.CharFilter(lookup_expr="iexact")
    kind = django_filters.MultipleChoiceFilter(distinct=False, choices=Species.Kind.choices)

    class Meta:
        model = Species
        fields: list[str] = []


class TeamFilter(django_filters.FilterSet):
    country = _countries("country")

    class Meta:
        model = Team
        fields: list[str] = []


class LocationFilter(django_filters.FilterSet):
    team = _teams("team")
    country = _countries("country")

    class Meta:
        model = Location
        fields: list[str] = []


class DeploymentFilter(django_filters.FilterSet):
    team = _teams("location__team")
    country = _countries("location__country")
    location = _locations("location")

    class Meta:
        model = Deployment
        fields: list[str] = []


class MediaFilter(django_filters.FilterSet):
    team = _teams("deployment__location__team")
    country = _countries("deployment__location__country")
    location = _locations("deployment__location")
    deployment = IdsFilter(
        distinct=False, label=_("Deployment"),
        queryset=lambda request: access.shared_deployments(access.viewer(request)),
    )  # fmt: skip
    species = IdsFilter(label=_("Species"), queryset=Species.objects.all(), method="filter_species")
    state = django_filters.MultipleChoiceFilter(distinct=False, choices=Media.State.choices)

    class Meta:
        model = Media
        fields: list[str] = []

    @extend_schema_field(OpenApiTypes.INT)  # ids, as the other species filters take
    def filter_species(self, queryset: QuerySet, name: str, value: list[Species]) -> QuerySet:
        # By the sightings of the image's event that this viewer may see: another team's
        # unshared naming of an event must not be learnt by filtering its shared images.
        if not value:
            return queryset
        named = access.sightings(access.viewer(self.request)).filter(
            event=OuterRef("event"), species__in=value
        )
        return queryset.filter(Exists(named))


class IndividualFilter(django_filters.FilterSet):
    """The individuals page's search, and the API's filters of the catalogue."""

    q = django_filters.CharFilter(label=_("Code or name"), max_length=200, method="filter_text")
    species = IdsFilter(distinct=False, label=_("Species"), queryset=Species.objects.all())
    team = _teams("team")

    class Meta:
        model = Individual
        fields: list[str] = []

    def filter_text(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        text = value.strip()
        return queryset.filter(Q(code__icontains=text) | Q(name__icontains=text))
