from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.http import QueryDict

from sightings import access, camtrapdp_export
from sightings.models import Individual, Species, Team


class Command(BaseCommand):
    help = """Write a Camtrap DP 1.0.2 package (zip) of the sightings the browser's filters find,
    validated before it is written.

    With --user, as that user sees them in the browser (other teams' protected stations on the
    grid, only their approved sightings). Without it, as a site admin: everything, with exact
    coordinates, which is for the installation's own use, not for sharing with other teams."""

    def add_arguments(self, parser) -> None:
        parser.add_argument("out", metavar="OUT.zip")
        parser.add_argument("--user", help="export what this user may see")
        parser.add_argument("--species", action="append", default=[], help="any of its names")
        parser.add_argument("--country", action="append", default=[], help="e.g. CN, RU")
        parser.add_argument("--team", action="append", default=[], help="name or id")
        parser.add_argument("--location", action="append", default=[], help="id")
        parser.add_argument("--deployment", help="id")
        parser.add_argument("--individual", help="code")
        parser.add_argument("--date-from", help="first local date, YYYY-MM-DD")
        parser.add_argument("--date-to", help="last local date, YYYY-MM-DD")
        parser.add_argument(
            "--review-status", action="append", default=[],
            help="pending, approved, returned or rejected",
        )  # fmt: skip
        parser.add_argument("--independent", action="store_true", help="independent only")
        parser.add_argument("--q", help="free text, as the browser's search")

    def handle(self, *args, **options) -> None:
        viewer = access.Viewer({}, is_site_admin=True)
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"No user {options['user']!r}")
            viewer = access.Viewer.of(user)
        try:
            sightings = camtrapdp_export.filtered(viewer, _query(options))
            summary = camtrapdp_export.build(viewer, sightings, Path(options["out"]))
        except camtrapdp_export.BadFilters as bad:
            raise CommandError(f"Bad filters: {bad.errors}") from None
        except camtrapdp_export.NothingToExport:
            raise CommandError(
                "Nothing to export: no sighting found has a located station."
            ) from None
        line = (
            f"{options['out']}: {summary.observations} event observations, "
            f"{summary.media_observations} media observations, {summary.media} media, "
            f"{len(summary.deployments)} deployments"
        )
        if summary.left_out:
            line += f"; {summary.left_out} sightings at stations without coordinates left out"
        self.stdout.write(line)


def _query(options: dict) -> str:
    """The browser's query string for these options: names turned into the ids it takes."""
    query = QueryDict(mutable=True)
    catalogue = Species.objects.all()
    for name in options["species"]:
        species = catalogue.find(name)
        if species is None:
            raise CommandError(f"Not in the catalogue: {name!r}")
        query.appendlist("species", str(species.pk))
    for name in options["team"]:
        team = Team.objects.filter(name=name).first()
        if team is None and name.isdigit():
            team = Team.objects.filter(pk=int(name)).first()
        if team is None:
            raise CommandError(f"No team {name!r}")
        query.appendlist("team", str(team.pk))
    query.setlist("country", options["country"])
    query.setlist("location", options["location"])
    query.setlist("review_status", options["review_status"])
    for option in ("deployment", "date_from", "date_to", "q"):
        if options[option]:
            query[option] = options[option]
    if options["individual"]:
        individual = Individual.objects.filter(code=options["individual"]).first()
        if individual is None:
            raise CommandError(f"No individual {options['individual']!r}")
        query["individual"] = str(individual.pk)
    if options["independent"]:
        query["independent"] = "on"
    return query.urlencode()
