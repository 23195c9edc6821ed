from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from sightings import access, exports, independence
from sightings.models import Location, Sighting, Species


class Command(BaseCommand):
    help = """Write camtrapR's record table of independent detections as CSV.

    Same rule and columns as camtrapR's recordTable(minDeltaTime, deltaTimeComparedTo), plus
    our ids: one row per independent detection of a species at a location."""

    def add_arguments(self, parser) -> None:
        parser.add_argument("--min-delta", type=float, required=True, metavar="MINUTES")
        parser.add_argument("--compared-to", choices=independence.COMPARED_TO, default="last")
        parser.add_argument("--location", action="append", default=[], help="name or id")
        parser.add_argument("--species", action="append", default=[], help="any of its names")
        parser.add_argument("--out", help="file to write (default: standard output)")
        parser.add_argument(
            "--user", help="only what this user may see (default: everything, as a site admin)"
        )

    def handle(self, *args, **options) -> None:
        sightings = Sighting.objects.all()
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"No user {options['user']!r}")
            sightings = access.sightings(access.Viewer.of(user))
        if options["location"]:
            sightings = sightings.filter(
                event__deployment__location__in=_locations(options["location"])
            )
        if options["species"]:
            sightings = sightings.filter(species__in=_species(options["species"]))
        detections = independence.independent_detections(
            independence.records(sightings), options["min_delta"], options["compared_to"]
        )
        lines = exports.csv_lines(exports.record_table_rows(detections))
        if not options["out"]:
            for line in lines:
                self.stdout.write(line, ending="")
            return
        with open(options["out"], "w", newline="", encoding="utf-8") as out:
            out.writelines(lines)


def _locations(wanted: list[str]) -> list[Location]:
    found = []
    for name in wanted:
        location = Location.objects.filter(name=name).first()
        if location is None and name.isdigit():
            location = Location.objects.filter(pk=int(name)).first()
        if location is None:
            raise CommandError(f"No location {name!r}")
        found.append(location)
    return found


def _species(wanted: list[str]) -> list[Species]:
    catalogue = Species.objects.all()
    found = [catalogue.find(name) for name in wanted]
    if None in found:
        raise CommandError(f"Not in the catalogue: {wanted[found.index(None)]!r}")
    return found
