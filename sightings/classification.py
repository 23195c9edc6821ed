"""Naming what events show, and reviewing it: who did what, when and how, kept as history,
and never over another person's edit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sightings import crossborder, events, independence, protection
from sightings.models import Event, Individual, Sex, Sighting, SightingChange, Species, Team


class Refused(Exception):
    """A review the rules do not allow; message says why, in the user's language."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Conflict(Exception):
    """Someone else saved the sighting after the version being edited; nothing was saved."""

    def __init__(self, current: Sighting) -> None:
        super().__init__(current.pk)
        self.current = current


@dataclass
class Naming:
    species: Species
    count: int | None = None
    sex: str = ""
    life_stage: str = ""
    behaviour: str = ""
    individual: Individual | None = None
    comment: str = ""

    def values(self) -> dict:
        return {field.name: getattr(self, field.name) for field in fields(self)}


def classify(sighting: Sighting, version: int, naming: Naming, user) -> Sighting:
    """Name a sighting as a person, unless it changed since version (then Conflict).

    A named sighting goes (back) to review: what a reviewer approved is not what it says now.
    """
    after = naming.values() | {"review_status": Sighting.Review.PENDING}
    before = {name: getattr(sighting, name) for name in after}
    with transaction.atomic():
        saved = Sighting.objects.filter(pk=sighting.pk, version=version).update(
            **after,
            classified_by=user,
            classified_at=timezone.now(),
            classification_method=Sighting.Method.HUMAN,
            version=F("version") + 1,
        )
        if not saved:
            raise Conflict(_current(sighting))
        record(sighting.pk, before, after, user, Sighting.Method.HUMAN)
        _after_change(sighting.event, {sighting.species, naming.species})
    return Sighting.objects.get(pk=sighting.pk)


def add_sighting(event: Event, naming: Naming, user) -> Sighting:
    """Add another named sighting to an event (a second species, another individual)."""
    with transaction.atomic():
        sighting = Sighting.objects.create(
            event=event,
            **event.placement(),
            **naming.values(),
            classified_by=user,
            classified_at=timezone.now(),
            classification_method=Sighting.Method.HUMAN,
        )
        record(sighting.pk, {}, naming.values(), user, Sighting.Method.HUMAN)
        _after_change(event, {naming.species})
    return sighting


def classify_many(versions: dict[int, int], naming: Naming, user) -> list[Conflict]:
    """Name several sightings alike ("all these are blank"); return those that conflicted."""
    conflicts = []
    chosen = Sighting.objects.filter(pk__in=versions)
    for sighting in chosen.select_related("event__deployment", "species", "individual"):
        try:
            classify(sighting, versions[sighting.pk], naming, user)
        except Conflict as conflict:
            conflicts.append(conflict)
    return conflicts


def review(sighting: Sighting, status: str, user, version: int, comment: str = "") -> None:
    """Approve, return or reject the version of a sighting the reviewer looked at (Conflict
    if it changed since); the comment goes into its history. Only named sightings can be
    approved (Refused), and where the team asks for a second opinion, a sensitive species
    only by someone other than who named it (Refused)."""
    if status == Sighting.Review.APPROVED and sighting.species_id is None:
        raise Refused(_("Only a named sighting can be approved: name its species first."))
    if status == Sighting.Review.APPROVED and needs_second_opinion(sighting, user):
        raise Refused(
            _("Your team asks for a second opinion on sensitive species: another reviewer "
              "approves what you named.")
        )  # fmt: skip
    with transaction.atomic():
        # The version stands for everything the reviewer saw, the species above included.
        saved = Sighting.objects.filter(pk=sighting.pk, version=version).update(
            review_status=status, version=F("version") + 1
        )
        if not saved:
            raise Conflict(_current(sighting))
        changes = {"review_status": [sighting.review_status, status]}
        if comment:
            changes["review_comment"] = ["", comment]
        SightingChange.objects.create(sighting=sighting, changed_by=user, changes=changes)
        if status == Sighting.Review.APPROVED:
            crossborder.note_approval(sighting.pk)


def needs_second_opinion(sighting: Sighting, user) -> bool:
    """Whether this user may not approve this sighting because they named it, its species is
    sensitive and its team asks for a second opinion."""
    return (
        sighting.classified_by_id == user.pk
        and sighting.species is not None
        and sighting.species.is_sensitive
        and Team.objects.filter(locations=sighting.location_id, second_opinion=True).exists()
    )


def _current(sighting: Sighting) -> Sighting:
    return Sighting.objects.select_related("classified_by", "species").get(pk=sighting.pk)


def record(sighting_id: int, before: dict, after: dict, user, method: str) -> None:
    """Keep what changed, field by field, in the sighting's history."""
    changes = {
        name: [_shown(before.get(name)), _shown(value)]
        for name, value in after.items()
        if before.get(name) != value and (before.get(name) or value)
    }
    if changes:
        SightingChange.objects.create(
            sighting_id=sighting_id, changed_by=user, method=method, changes=changes
        )


def _shown(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Species):
        return value.record_name
    if isinstance(value, Individual):
        return value.code
    return str(value)


def _after_change(event: Event, species: set[Species | None]) -> None:
    events.refresh_sightings(event)
    location = event.deployment.location_id
    independence.mark_stale(location, {item.pk for item in species if item is not None})
    protection.note_species(location, species)


# History as sentences in the reader's language. A change keeps each field's value before
# and after as text (record): a species by its record name, an individual by its code, a
# choice by its code; they are put into words only when shown.


@dataclass
class HistoryEntry:
    when: dt.datetime
    who: str  # the user name; "" for the system (an event that took in new images)
    how: str  # "from the folder name" and the like; "" for a person naming it
    sentences: list[str]
    comment: str = ""  # a reviewer's comment, shown as they wrote it


# For each field: the sentence when it is set, when it changes, when it is removed.
_SENTENCES = {
    "species": (
        gettext_lazy("Named %(after)s"),
        gettext_lazy("Renamed from %(before)s to %(after)s"),
        gettext_lazy("Species removed"),
    ),
    "count": (
        gettext_lazy("Count set to %(after)s"),
        gettext_lazy("Count changed from %(before)s to %(after)s"),
        gettext_lazy("Count removed"),
    ),
    "sex": (
        gettext_lazy("Sex set to %(after)s"),
        gettext_lazy("Sex changed from %(before)s to %(after)s"),
        gettext_lazy("Sex removed"),
    ),
    "life_stage": (
        gettext_lazy("Life stage set to %(after)s"),
        gettext_lazy("Life stage changed from %(before)s to %(after)s"),
        gettext_lazy("Life stage removed"),
    ),
    "behaviour": (
        gettext_lazy("Behaviour noted: %(after)s"),
        gettext_lazy("Behaviour changed to: %(after)s"),
        gettext_lazy("Behaviour removed"),
    ),
    "individual": (
        gettext_lazy("Individual set to %(after)s"),
        gettext_lazy("Individual changed from %(before)s to %(after)s"),
        gettext_lazy("Individual removed"),
    ),
    "comment": (
        gettext_lazy("Comment added: %(after)s"),
        gettext_lazy("Comment changed to: %(after)s"),
        gettext_lazy("Comment removed"),
    ),
}

_DECISIONS = {
    Sighting.Review.APPROVED: gettext_lazy("Approved"),
    Sighting.Review.REJECTED: gettext_lazy("Rejected"),
    Sighting.Review.RETURNED: gettext_lazy("Returned to the uploader"),
    Sighting.Review.PENDING: gettext_lazy("Sent back to review"),
}

_FIELD_ORDER = {field: position for position, field in enumerate(_SENTENCES)}
_CHOICES = {"sex": dict(Sex.choices), "life_stage": dict(Sighting.LifeStage.choices)}


def history(sighting: Sighting) -> list[HistoryEntry]:
    """The sighting's changes, oldest first, each as sentences in the active language."""
    changes = list(sighting.changes.select_related("changed_by"))
    names = _species_names(changes)
    return [_entry(change, names) for change in changes]


def _species_names(changes: list[SightingChange]) -> dict[str, str]:
    """Each species named in the changes, by its record name, as the reader calls it."""
    kept = {value for c in changes for value in c.changes.get("species", []) if value}
    found = Species.objects.filter(
        Q(scientific_name__in=kept) | Q(scientific_name="", name_en__in=kept)
    )
    return {species.record_name: species.label() for species in found}


def _entry(change: SightingChange, names: dict[str, str]) -> HistoryEntry:
    values = change.changes
    # In the order of the naming form, whatever order the database keeps the keys in.
    named = set(values) - {"review_status", "review_comment"}
    order = sorted(named, key=lambda field: (_FIELD_ORDER.get(field, len(_FIELD_ORDER)), field))
    sentences = [_sentence(field, *values[field], names) for field in order]
    if "review_status" in values:
        sentences.append(_decision(change))
    return HistoryEntry(
        when=change.changed_at,
        who=change.changed_by.get_username() if change.changed_by else "",
        how=change.get_method_display() if change.method != Sighting.Method.HUMAN else "",
        sentences=sentences,
        comment=values.get("review_comment", ["", ""])[1],
    )


def _sentence(field: str, before: str, after: str, names: dict[str, str]) -> str:
    shown = {"before": _value(field, before, names), "after": _value(field, after, names)}
    if field not in _SENTENCES:  # a field history did not know when this was written
        label = Sighting._meta.get_field(field).verbose_name if _is_field(field) else field
        return _("%(field)s changed") % {"field": str(label).capitalize()}
    set_, changed, removed = _SENTENCES[field]
    if not after:
        return str(removed)
    return (changed if before else set_) % shown


def _is_field(name: str) -> bool:
    return any(field.name == name for field in Sighting._meta.get_fields())


def _value(field: str, value: str, names: dict[str, str]) -> str:
    if field == "species":
        return names.get(value, value)
    return str(_CHOICES.get(field, {}).get(value, value))


def _decision(change: SightingChange) -> str:
    before, after = change.changes["review_status"]
    if (
        after == Sighting.Review.PENDING
        and before == Sighting.Review.APPROVED
        and not (change.changed_by_id or change.method)
    ):
        # events.reopen_review: nobody decided it, so say why.
        return _("Sent back to review: the event took in new images")
    return str(_DECISIONS.get(after, after))
