"""Card folders: species named by folder, as camtrapR users sort their cards.

Cards are kept as Station/Species/files or Species/files. The innermost folder of an image
names its species; each batch asks once about every such name the catalogue does not know
(map it to a species, or ignore it), and never guesses.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q

from sightings import events
from sightings.models import BatchFolder, Event, Species, UploadBatch


def species_folder(folder: str, station: str) -> str:
    """The folder that names an image's species: its innermost folder, unless that is
    only the station's own folder."""
    parts = [part for part in folder.split("/") if part]
    if not parts or (len(parts) == 1 and parts[0].casefold() == station.casefold()):
        return ""
    return parts[-1]


def collect(batch: UploadBatch) -> None:
    """Note the batch's species folder names, answer those the catalogue knows, and give
    the images of answered folders their species."""
    station = batch.deployment.location.name
    folders = batch.media.order_by().values_list("folder", flat=True).distinct()
    names = {species_folder(folder, station) for folder in folders} - {""}
    known = set(batch.folders.values_list("name", flat=True))
    catalogue = Species.objects.all()
    for name in sorted(names - known):
        BatchFolder.objects.create(batch=batch, name=name, species=catalogue.find(name))
    apply(batch)


def answer(folder: BatchFolder, species: Species | None) -> None:
    """Record what a folder name means: a species, or None to ignore the folder."""
    folder.species = species
    folder.is_ignored = species is None
    folder.save(update_fields=["species", "is_ignored"])


def apply(batch: UploadBatch) -> None:
    """Give the batch's images the species their answered folders name, and their events
    sightings from folders."""
    with transaction.atomic():
        # Under the deployment's lock: a worker grouping an image meanwhile sees either the
        # old or the new folder species, never half of each.
        events.lock(batch.deployment_id)
        touched: set[int] = set()
        for folder in batch.folders.filter(is_ignored=False).exclude(species=None):
            media = batch.media.filter(in_folder(folder.name))
            media = media.exclude(folder_species=folder.species)
            touched |= set(media.exclude(event=None).values_list("event_id", flat=True))
            media.update(folder_species=folder.species)
        for event in Event.objects.filter(pk__in=touched).select_related("deployment"):
            events.refresh_sightings(event)


def in_folder(name: str) -> Q:
    """Images whose innermost folder is name."""
    return Q(folder=name) | Q(folder__endswith="/" + name)


def unanswered(batch: UploadBatch) -> list[BatchFolder]:
    return [folder for folder in batch.folders.all() if not folder.is_answered]
