from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from sightings import station_table
from sightings.models import Team


class Command(BaseCommand):
    help = """Set deployment periods and malfunction periods from a camtrapR station table.

    CSV columns as camtrapR's cameraOperation() reads them: Station, Setup_date,
    Retrieval_date, optionally ProblemN_from / ProblemN_to pairs and latitude / longitude.
    Each station names a location of TEAM with one deployment: its period becomes noon of
    the setup day to noon of the retrieval day (camera clock), as camtrapR assumes for
    dates, and its malfunction periods become the table's problems. Nothing is changed
    unless every row can be applied."""

    def add_arguments(self, parser) -> None:
        parser.add_argument("csv", type=Path)
        parser.add_argument("--team", required=True, help="the team whose locations these are")
        parser.add_argument(
            "--date-format", default="ymd",
            help="ymd, dmy or mdy (camtrapR's dateFormat) or a strptime format: %%d/%%m/%%Y",
        )  # fmt: skip

    def handle(self, *args, **options) -> None:
        team = Team.objects.filter(name=options["team"]).first()
        if team is None:
            raise CommandError(f"No team named {options['team']!r}")
        if not options["csv"].is_file():
            raise CommandError(f"{options['csv']} is not a file")
        try:
            stations = station_table.read(options["csv"], options["date_format"])
            station_table.match(team, stations)
        except station_table.StationTableError as error:
            raise CommandError(str(error)) from None
        station_table.apply(stations)
        for station in stations:
            self.stdout.write(
                f"{station.name}: {station.setup} to {station.retrieval}, "
                f"{len(station.problems)} malfunction periods "
                f"(deployment {station.deployment.pk})"
            )
