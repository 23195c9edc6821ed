"""Card folders: species named by folder, as camtrapR users sort their cards.

Cards are kept as Station/Species/files or Species/files. The innermost folder of an image
names its species; each batch asks once about every such name the catalogue does not know
(map it to a species, or ignore it), and never guesses. A team's answers are remembered
(FolderAnswer) and answer the same names on its next cards, where the batch page says so
and lets them be changed.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q

from sightings import events
from sightings.models import BatchFolder, Event, FolderAnswer, Species, Team, UploadBatch


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
    remembered = _remembered(batch.deployment.location.team_id)
    for name in sorted(names - known):
        # The team's own earlier answer first: a person chose it, for this team's habits.
        habit = remembered.get(name.casefold())
        if habit:
            BatchFolder.objects.create(
                batch=batch, name=name, species=habit.species,
                is_ignored=habit.species is None, is_remembered=True,
            )  # fmt: skip
        else:
            BatchFolder.objects.create(batch=batch, name=name, species=catalogue.find(name))
    apply(batch)


def _remembered(team_id: int) -> dict[str, FolderAnswer]:
    return {answer.key: answer for answer in FolderAnswer.objects.filter(team_id=team_id)}


def answer(folder: BatchFolder, species: Species | None, by=None) -> None:
    """Record what a folder name means: a species, or None to ignore the folder; the
    folder's team remembers it for its next cards."""
    folder.species = species
    folder.is_ignored = species is None
    folder.is_remembered = False
    folder.save(update_fields=["species", "is_ignored", "is_remembered"])
    remember(folder.batch.deployment.location.team, folder.name, species, by)


def remember(team: Team, name: str, species: Species | None, by=None) -> FolderAnswer:
    """Keep what the team says a folder name means (None: ignore such folders)."""
    answer, _ = FolderAnswer.objects.update_or_create(
        team=team, key=name.casefold(),
        defaults={"name": name, "species": species, "answered_by": by},
    )  # fmt: skip
    return answer


def apply(batch: UploadBatch) -> None:
    """Give the batch's images the species their answered folders name, and their events
    sightings from folders."""
    with transaction.atomic():
        # Under the deployment's lock: a worker grouping an image meanwhile sees either the
        # old or the new folder species, never half of each.
        events.lock(batch.deployment_id)
        touched: set[int] = set()
        # Ignored folders too: an answer changed to "ignore" takes its species back.
        for folder in batch.folders.filter(Q(is_ignored=True) | Q(species__isnull=False)):
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


def stations(batch: UploadBatch) -> list[str]:
    """The station folders of a card: those holding its species folders (Station/Species/
    files) and those named as one of the team's locations (Station/files). More than one
    means the cards of several cameras went into one deployment, and their images would be
    merged into one station's events."""
    species_folders = {folder.name for folder in batch.folders.all()}
    team_stations = {
        name.casefold()
        for name in batch.deployment.location.team.locations.values_list("name", flat=True)
    }
    found: dict[str, str] = {}
    for folder in batch.media.order_by().values_list("folder", flat=True).distinct():
        parts = [part for part in folder.split("/") if part]
        if len(parts) >= 2 and parts[-1] in species_folders:
            found.setdefault(parts[-2].casefold(), parts[-2])
        elif parts and parts[-1].casefold() in team_stations:
            found.setdefault(parts[-1].casefold(), parts[-1])
    return sorted(found.values(), key=str.casefold)
