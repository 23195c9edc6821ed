"""Group a deployment's images into events (sequences) and keep each event's sightings.

An event is a maximal run of images whose consecutive capture times are closer than the
deployment's gap. That grouping depends only on the corrected capture times, so it comes out
the same whatever order images arrive in: each new image regroups just the window of events
it touches, and a changed gap or clock regroups the whole deployment with the same code.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from sightings import independence, protection
from sightings.models import Deployment, Event, Media, Sighting, SightingChange, Species


def lock(deployment_id: int) -> Deployment:
    """Take the deployment's lock for the rest of the transaction.

    Whoever changes which images or species make up its events takes it, first: two workers
    adding neighbouring images would otherwise each build an event from a view that misses
    the other's image.
    """
    return Deployment.objects.select_for_update().get(pk=deployment_id)


def group_media(media: Media, deployment: Deployment) -> None:
    """Put a processed image into its deployment's events (no capture time: no event).

    The caller holds the deployment's lock (lock()), in the transaction that saves the image.
    """
    if media.captured_at is None:
        return
    gap = dt.timedelta(seconds=deployment.event_gap_seconds)
    instant = media.captured_at
    # Exactly the events with an image closer than the gap to this one (events are
    # maximal runs, so anything else is at least a gap away).
    touching = deployment.events.filter(end_at__gt=instant - gap, start_at__lt=instant + gap)
    spans = list(touching.values_list("start_at", "end_at").order_by())
    start = min([instant, *(start for start, _ in spans)])
    end = max([instant, *(end for _, end in spans)])
    regroup(deployment, start, end)


def regroup_deployment(deployment: Deployment) -> None:
    """Re-derive the UTC instants of a deployment's images and regroup them into events,
    after its time zone, clock correction, period or gap changed."""
    with transaction.atomic():
        deployment = lock(deployment.pk)
        correct_capture_times(deployment)
        timed = deployment.media.exclude(captured_at=None)
        Media.objects.filter(deployment=deployment, captured_at=None).update(event=None)
        span = [timed.order_by("captured_at").first(), timed.order_by("captured_at").last()]
        if span[0] is None:
            Event.objects.filter(deployment=deployment).delete()
            return
        regroup(deployment, span[0].captured_at, span[1].captured_at, everything=True)


def correct_capture_times(deployment: Deployment) -> int:
    """Re-derive the UTC instants of the deployment's images; return how many."""
    media = list(deployment.media.exclude(camera_time="").only("camera_time", "camera_offset"))
    for item in media:
        item.deployment = deployment
        item.derive_capture_instant()
    Media.objects.bulk_update(media, ["captured_at", "is_outside_deployment"], batch_size=1000)
    return len(media)


def regroup(
    deployment: Deployment, start: dt.datetime, end: dt.datetime, everything: bool = False
) -> None:
    """Rebuild the events of the images between start and end, reusing existing events."""
    media = list(
        deployment.media.filter(captured_at__gte=start, captured_at__lte=end)
        .exclude(captured_at=None)
        .order_by("captured_at", "pk")
        # deployment_id too: the related manager reads it on every image it returns.
        .only("pk", "deployment_id", "captured_at", "event_id", "folder_species_id")
    )
    groups = split_by_gap(media, dt.timedelta(seconds=deployment.event_gap_seconds))
    first_image = {}
    for item in media:
        first_image.setdefault(item.event_id, item.pk)
    old = set(first_image) - {None}
    if everything:
        old |= set(deployment.events.values_list("pk", flat=True))
    existing = set(old)
    kept = [_settle(deployment, group, old) for group in groups]
    home = {item.pk: item.event_id for item in media}
    retired = old - {event.pk for event in kept}
    for event in retired & set(first_image):
        # Sightings of a swallowed event follow its first image to its new event.
        Sighting.objects.filter(event_id=event).update(event_id=home[first_image[event]])
    Event.objects.filter(pk__in=retired).delete()
    for event in kept:
        if event.pk in existing:  # a new event has no sightings yet
            event.sightings.update(**event.placement())
        refresh_sightings(event)


def split_by_gap(media: list[Media], gap: dt.timedelta) -> list[list[Media]]:
    """Runs of time-ordered images whose neighbours are closer than gap."""
    groups: list[list[Media]] = []
    for item in media:
        if groups and item.captured_at - groups[-1][-1].captured_at < gap:
            groups[-1].append(item)
        else:
            groups.append([item])
    return groups


def _settle(deployment: Deployment, group: list[Media], old: set[int]) -> Event:
    # Reuse the earliest existing event among the group's images, so its sightings stay.
    reusable = [item.event_id for item in group if item.event_id in old]
    event = Event.objects.get(pk=reusable[0]) if reusable else Event(deployment=deployment)
    old.discard(event.pk)
    event.start_at, event.end_at = group[0].captured_at, group[-1].captured_at
    event.media_count = len(group)
    event.save()
    moved = [item.pk for item in group if item.event_id != event.pk]
    Media.objects.filter(pk__in=moved).update(event=event)
    for item in group:
        item.event_id = event.pk
    return event


def refresh_sightings(event: Event) -> None:
    """Keep an event's sightings consistent: folder species where no person has named it,
    no draft beside named sightings, exactly one draft where nothing is named."""
    sightings = list(event.sightings.all())
    named_by_people = [s for s in sightings if s.species_id and s.classification_method != "folder"]
    if not named_by_people:
        sightings = _follow_folders(event, sightings)
    drafts = [s for s in sightings if s.species_id is None]
    if len(drafts) < len(sightings):
        Sighting.objects.filter(pk__in=[s.pk for s in drafts]).delete()
    elif not sightings:
        Sighting.objects.create(event=event, **event.placement())
    elif len(drafts) > 1:
        Sighting.objects.filter(pk__in=[s.pk for s in drafts[1:]]).delete()


def _follow_folders(event: Event, sightings: list[Sighting]) -> list[Sighting]:
    wanted = set(
        event.media.exclude(folder_species=None).values_list("folder_species_id", flat=True)
    )
    from_folders = {s.species_id: s for s in sightings if s.classification_method == "folder"}
    stale = [s.pk for species, s in from_folders.items() if species not in wanted]
    Sighting.objects.filter(pk__in=stale).delete()
    sightings = [s for s in sightings if s.pk not in stale]
    missing = wanted - set(from_folders)
    if missing:
        sightings += _from_folders(event, missing)
    if stale or missing:
        independence.mark_stale(event.deployment.location_id, set(from_folders) | wanted)
        protection.note_species(
            event.deployment.location_id, Species.objects.filter(pk__in=missing)
        )
    return sightings


def _from_folders(event: Event, species: set[int]) -> list[Sighting]:
    # Named by whoever uploaded the card, when they did.
    batch = event.media.select_related("batch").first().batch
    created = []
    for species_id in species:
        sighting = Sighting.objects.create(
            event=event,
            **event.placement(),
            species_id=species_id,
            classification_method=Sighting.Method.FOLDER,
            classified_by_id=batch.uploaded_by_id,
            classified_at=batch.created_at,
        )
        SightingChange.objects.create(
            sighting=sighting, changed_by_id=batch.uploaded_by_id, changed_at=batch.created_at,
            method=Sighting.Method.FOLDER,
            changes={"species": ["", Species.objects.get(pk=species_id).record_name]},
        )  # fmt: skip
        created.append(sighting)
    return created
