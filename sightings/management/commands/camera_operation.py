from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand

from sightings import effort, exports
from sightings.management import options


class Command(BaseCommand):
    help = """Write camtrapR's camera operation matrix (cameraOperation()) as CSV: a Station
    column, then one column per day (YYYY-MM-DD, with +Hh when days start at hour H), each
    cell the share of the day the station's cameras ran: NA before setup and after
    retrieval, 0 during malfunction periods. The stations are those of the deployments
    --user may see at the places the filters name; --date-from / --date-to bound the days.
    Several deployments at a station are several cameras, combined as camtrapR's byCamera,
    allCamsOn and camerasIndependent say (sightings/effort.py)."""

    def add_arguments(self, parser) -> None:
        parser.add_argument("--out", required=True, type=Path)
        options.add_operation_arguments(parser)
        parser.add_argument(
            "--by-camera", action="store_true", help="a row per deployment (camtrapR's byCamera)"
        )
        options.add_filter_arguments(parser)

    def handle(self, *args, **given) -> None:
        viewer = options.viewer(given)
        filterset = options.filtered(viewer, given)
        _, operation = options.camera_operation(viewer, filterset, given, given["by_camera"])
        with given["out"].open("w", newline="", encoding="utf-8") as out:
            out.writelines(exports.csv_lines(effort.table(operation)))
        self.stdout.write(f"{given['out']}: {len(operation.rows)} rows, {len(operation.days)} days")
