"""Options that several commands share: the browser's filters, for the commands that export
or analyse a filtered set of sightings (turned into the browser's query string and applied
by SightingFilter over what --user may see), and camtrapR's cameraOperation() options, for
the commands that work out effort."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.http import QueryDict

from sightings import access, effort, filters
from sightings.models import Individual, Species, Team


def add_filter_arguments(parser) -> None:
    parser.add_argument("--user", help="what this user may see (default: everything)")
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


def viewer(options: dict) -> access.Viewer:
    """--user's viewer; without it, a site admin's (everything, exact coordinates)."""
    if not options["user"]:
        return access.Viewer({}, is_site_admin=True)
    user = get_user_model().objects.filter(username=options["user"]).first()
    if user is None:
        raise CommandError(f"No user {options['user']!r}")
    return access.Viewer.of(user)


def filtered(viewer: access.Viewer, options: dict) -> filters.SightingFilter:
    """The browser's filters for these options, over what the viewer may see, checked."""
    filterset = filters.for_viewer(viewer, query(options))
    if not filterset.is_valid():
        raise CommandError(f"Bad filters: {filterset.errors}")
    return filterset


def query(options: dict) -> str:
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


def add_operation_arguments(parser) -> None:
    """The options of camtrapR's cameraOperation()."""
    parser.add_argument(
        "--no-problems", action="store_true",
        help="ignore malfunction periods (camtrapR's hasProblems = FALSE)",
    )  # fmt: skip
    parser.add_argument(
        "--occasion-start-hour", type=int, default=0, choices=range(24), metavar="H",
        help="the hour days start at, 0-23 (camtrapR's occasionStartTime)",
    )  # fmt: skip
    parser.add_argument(
        "--all-cams-on", action="store_true",
        help="a station is on only while all its cameras are (camtrapR's allCamsOn)",
    )  # fmt: skip
    parser.add_argument(
        "--cameras-independent", action="store_true",
        help="a station's cameras add up (camtrapR's camerasIndependent)",
    )  # fmt: skip


def camera_operation(
    viewer: access.Viewer, filterset: filters.SightingFilter, options: dict, by_camera: bool = False
) -> tuple[list[effort.Camera], effort.Operation]:
    """The cameras and operation behind the filtered set, as the options ask."""
    try:
        return effort.filtered_operation(
            viewer, filterset, with_problems=not options["no_problems"],
            start_hour=options["occasion_start_hour"], by_camera=by_camera,
            all_cams_on=options["all_cams_on"], cameras_independent=options["cameras_independent"],
        )  # fmt: skip
    except effort.OperationError as error:
        raise CommandError(str(error)) from None
