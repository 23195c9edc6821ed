"""Naming what events show, and reviewing it: who did what, when and how, kept as history,
and never over another person's edit."""

from __future__ import annotations

from dataclasses import dataclass, fields

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from sightings import events, independence, protection
from sightings.models import Event, Individual, Sighting, SightingChange, Species, Team


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
