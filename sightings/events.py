"""Group a deployment's images into events (sequences) and keep each event's sightings.

An event is a maximal run of images whose consecutive capture times are closer than the
deployment's gap. That grouping depends only on the corrected capture times, so it comes out
the same whatever order images arrive in. Processed images wait to be grouped a run at a
time, so a card costs a few grouping passes beside its workers, not one per image; a pass
regroups just the window of events the new images touch, and a changed gap or clock
regroups the whole deployment with the same code.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import F, QuerySet

from sightings import independence, protection
from sightings.models import (
    Deployment,
    Event,
    Media,
    PendingGrouping,
    Sighting,
    SightingChange,
    Species,
)


def lock(deployment_id: int) -> Deployment:
    """Take the deployment's lock for the rest of the transaction.

    Whoever changes which images or species make up its events takes it, first: two workers
    adding neighbouring images would otherwise each build an event from a view that misses
    the other's image.
    """
    return Deployment.objects.select_for_update().get(pk=deployment_id)


def request_grouping(deployment_id: int, again: bool = False, everything: bool = False) -> None:
    """Have the deployment's newly processed images (or, everything, all its images) grouped
    into events, once for a run (again: even though a request is pending, as its task may
    have been lost)."""
    from sightings import tasks

    request, created = PendingGrouping.objects.get_or_create(
        deployment_id=deployment_id, everything=everything
    )
    if created or again or request.sent_at is None:
        task = tasks.regroup_deployment if everything else tasks.group_new_media
        pending = PendingGrouping.objects.filter(pk=request.pk)
        tasks.send_on_commit(task, deployment_id, pending=pending)


def group_new_media(deployment_id: int) -> None:
    """Put the deployment's processed images that are in no event yet into events."""
    # Taken off the list first: an image processed while this runs asks again.
    PendingGrouping.objects.filter(deployment_id=deployment_id, everything=False).delete()
    with transaction.atomic():
        deployment = lock(deployment_id)
        # Derived again under the lock: the deployment's clock may have changed since the
        # worker that processed an image read it.
        new = correct_capture_times(deployment, deployment.media.ungrouped())
        if new:
            times = [item.captured_at for item in new]
            regroup(deployment, *_window(deployment, min(times), max(times)))


# What a deployment's capture instants, its events and its sightings' places derive from.
PLACEMENT_FIELDS = frozenset(
    {"location", "time_zone", "clock_correction_seconds", "start_at", "end_at", "event_gap_seconds"}
)


def deployment_changed(deployment: Deployment, before: dict) -> bool:
    """After a deployment was saved with changes ({field: value before}), have its images'
    instants, its events and its sightings worked out again if they derive from what
    changed; return whether. Every path that changes a deployment calls this."""
    if not PLACEMENT_FIELDS & set(before):
        return False
    if "location" in before:
        # The series it leaves are worked out again without its sightings.
        species = Sighting.objects.filter(event__deployment=deployment).values_list("species_id")
        independence.mark_stale(_pk(before["location"]), {pk for (pk,) in species})
    request_grouping(deployment.pk, everything=True)
    return True


def _pk(value) -> int:
    return getattr(value, "pk", value)


def regroup_deployment(deployment: Deployment) -> None:
    """Re-derive the UTC instants of a deployment's images and regroup them into events,
    after its time zone, clock correction, period or gap changed."""
    PendingGrouping.objects.filter(deployment=deployment, everything=True).delete()
    with transaction.atomic():
        deployment = lock(deployment.pk)
        correct_capture_times(deployment, deployment.media.exclude(camera_time=""))
        timed = deployment.media.exclude(captured_at=None)
        Media.objects.filter(deployment=deployment, captured_at=None).update(event=None)
        span = [timed.order_by("captured_at").first(), timed.order_by("captured_at").last()]
        if span[0] is None:
            Event.objects.filter(deployment=deployment).delete()
            return
        regroup(deployment, span[0].captured_at, span[1].captured_at, everything=True)
        # Its sightings may have moved to another station, or in time.
        named = Species.objects.filter(sightings__event__deployment=deployment).distinct()
        independence.mark_stale(deployment.location_id, {species.pk for species in named})
        protection.note_species(deployment.location_id, named)


def correct_capture_times(deployment: Deployment, media: QuerySet[Media]) -> list[Media]:
    """Re-derive the UTC instants of these images of the deployment; return the images."""
    fields = ["captured_at", "is_outside_deployment"]
    # deployment_id too: the related manager reads it on every image it returns.
    media = list(media.only("pk", "deployment_id", "camera_time", "camera_offset", *fields))
    changed = []
    for item in media:
        before = (item.captured_at, item.is_outside_deployment)
        item.deployment = deployment
        item.derive_capture_instant()
        if (item.captured_at, item.is_outside_deployment) != before:
            changed.append(item)
    Media.objects.bulk_update(changed, fields, batch_size=1000)
    return media


def _window(
    deployment: Deployment, start: dt.datetime, end: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    """Widen start..end to take in the whole events an image in it joins."""
    gap = dt.timedelta(seconds=deployment.event_gap_seconds)
    latest_first = deployment.events.order_by("-start_at").values_list("start_at", "end_at")
    # Events are runs at least a gap apart, so only the last one starting before the
    # window can reach into it, and the last one starting in it ends it.
    before = latest_first.filter(start_at__lt=start).first()
    if before and before[1] > start - gap:
        start = before[0]
    last = latest_first.filter(start_at__lt=end + gap).first()
    if last:
        end = max(end, last[1])
    return start, end


def regroup(
    deployment: Deployment, start: dt.datetime, end: dt.datetime, everything: bool = False
) -> None:
    """Rebuild the events of the images between start and end, reusing existing events
    and writing only what changed (everything: every event, as after a clock change)."""
    media = list(
        deployment.media.filter(captured_at__gte=start, captured_at__lte=end)
        .exclude(captured_at=None)
        .order_by("captured_at", "pk")
        .only("pk", "deployment_id", "captured_at", "event_id", "folder_species_id")
    )
    if everything:
        old = deployment.events.in_bulk()
    else:
        old = Event.objects.in_bulk({item.event_id for item in media} - {None})
    for event in old.values():
        event.deployment = deployment
    first_image = {}
    for item in media:
        first_image.setdefault(item.event_id, item)
    groups = split_by_gap(media, dt.timedelta(seconds=deployment.event_gap_seconds))
    unclaimed = set(old)
    settled = [(group, *_settle(deployment, group, old, unclaimed)) for group in groups]
    created = [(event, group) for group, event, _ in settled if event.pk is None]
    Event.objects.bulk_create([event for event, _ in created], batch_size=1000)
    changed = [
        event for _, event, differs in settled if event.pk in old and (everything or differs)
    ]
    Event.objects.bulk_update(changed, ["start_at", "end_at", "media_count"], batch_size=1000)
    # Events that take in images their approved sightings were not approved with.
    grown = {
        event.pk
        for group, event, _ in settled
        if event.pk in old and any(item.event_id != event.pk for item in group)
    }
    moved = []
    for group, event, _ in settled:
        moved += [item for item in group if item.event_id != event.pk]
        for item in group:
            item.event_id = event.pk
    Media.objects.bulk_update(moved, ["event"], batch_size=1000)
    for event_id in unclaimed & set(first_image):
        # Sightings of a swallowed event follow its first image to its new event.
        Sighting.objects.filter(event_id=event_id).update(event_id=first_image[event_id].event_id)
    Event.objects.filter(pk__in=unclaimed).delete()
    reopen_review(Sighting.objects.filter(event_id__in=grown))
    for event in changed:
        event.sightings.update(**event.placement())
        refresh_sightings(event)
    _start_sightings(created)


def reopen_review(sightings: QuerySet[Sighting]) -> None:
    """Send approved sightings back to review, keeping that in their history: other teams
    see an image only once someone approved the event with it."""
    reopened = list(sightings.filter(review_status=Sighting.Review.APPROVED).values_list("pk"))
    Sighting.objects.filter(pk__in=[pk for (pk,) in reopened]).update(
        review_status=Sighting.Review.PENDING, version=F("version") + 1
    )
    change = {"review_status": [Sighting.Review.APPROVED, Sighting.Review.PENDING]}
    SightingChange.objects.bulk_create(
        SightingChange(sighting_id=pk, changes=change) for (pk,) in reopened
    )


def split_by_gap(media: list[Media], gap: dt.timedelta) -> list[list[Media]]:
    """Runs of time-ordered images whose neighbours are closer than gap."""
    groups: list[list[Media]] = []
    for item in media:
        if groups and item.captured_at - groups[-1][-1].captured_at < gap:
            groups[-1].append(item)
        else:
            groups.append([item])
    return groups


def _settle(
    deployment: Deployment, group: list[Media], old: dict[int, Event], unclaimed: set[int]
) -> tuple[Event, bool]:
    """The event a run of images makes, and whether it differs from the stored one."""
    # Reuse the earliest existing event among the group's images, so its sightings stay.
    reusable = [item.event_id for item in group if item.event_id in unclaimed]
    event = old[reusable[0]] if reusable else Event(deployment=deployment)
    unclaimed.discard(event.pk)
    span = (group[0].captured_at, group[-1].captured_at, len(group))
    differs = span != (event.start_at, event.end_at, event.media_count) or any(
        item.event_id != event.pk for item in group
    )
    event.start_at, event.end_at, event.media_count = span
    return event, differs


def _start_sightings(created: list[tuple[Event, list[Media]]]) -> None:
    """New events' first sightings: the species their images' folders name, else a draft."""
    drafts = []
    for event, group in created:
        if any(item.folder_species_id for item in group):
            refresh_sightings(event)
        else:
            drafts.append(Sighting(event=event, **event.placement()))
    Sighting.objects.bulk_create(drafts, batch_size=1000)


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
