from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from sightings import exports, occupancy
from sightings.management import options
from sightings.models import Species


class Command(BaseCommand):
    help = """Write camtrapR's detection history (detectionHistory()) of one species as CSV:
    a Station column, then o1, o2, ... with 1 (or the number of detections) where the
    species was detected, 0 where not, NA where the station did not run. Detections are the
    independent detections of the filtered set: by the site's rule, or at --min-delta
    minutes. The stations and their effort are those of camera_operation with the same
    options (sightings/effort.py, sightings/occupancy.py). Note: camtrapR's includeEffort
    is TRUE unless set; here --include-effort asks for it."""

    def add_arguments(self, parser) -> None:
        parser.add_argument("--out", required=True, type=Path)
        parser.add_argument("--occasion-length", type=int, required=True, metavar="DAYS")
        parser.add_argument("--day1", default="station", help="station, survey or YYYY-MM-DD")
        parser.add_argument("--min-delta", type=float, metavar="MINUTES")
        parser.add_argument("--output", choices=occupancy.OUTPUTS, default="binary")
        parser.add_argument("--include-effort", action="store_true")
        parser.add_argument("--effort-out", type=Path, help="write the effort too (CSV)")
        parser.add_argument("--scale-effort", action="store_true")
        parser.add_argument("--min-active-days", type=float, metavar="DAYS")
        parser.add_argument("--buffer", type=int, metavar="DAYS")
        parser.add_argument("--max-days", type=int, metavar="DAYS")
        options.add_operation_arguments(parser)
        options.add_filter_arguments(parser)  # --species names the one species

    def handle(self, *args, **given) -> None:
        if len(given["species"]) != 1:
            raise CommandError("Name one species with --species.")
        if (given["effort_out"] or given["scale_effort"]) and not given["include_effort"]:
            raise CommandError("--effort-out and --scale-effort go with --include-effort.")
        species = Species.objects.all().find(given["species"][0])
        viewer = options.viewer(given)
        filterset = options.filtered(viewer, given)
        _, operation = options.camera_operation(viewer, filterset, given)
        try:
            history = occupancy.filtered_history(
                operation, filterset.qs, species, _options(given), given["min_delta"]
            )
        except occupancy.HistoryError as error:
            raise CommandError(str(error)) from None
        _write(given["out"], history.table(history.detections))
        if given["effort_out"]:
            _write(given["effort_out"], history.table(history.effort))
        for warning in history.warnings:
            self.stderr.write(warning)
        line = f"{given['out']}: {len(history.stations)} stations, "
        line += f"{len(history.detections[0])} occasions"
        if history.scaling:
            line += ", effort scaled: center {:.15g}, scale {:.15g}".format(*history.scaling)
        self.stdout.write(line)


def _options(given: dict) -> occupancy.Options:
    try:
        day1 = occupancy.day1(given["day1"])
    except occupancy.HistoryError as error:
        raise CommandError(str(error)) from None
    return occupancy.Options(
        occasion_length=given["occasion_length"], day1=day1, output=given["output"],
        include_effort=given["include_effort"], scale_effort=given["scale_effort"],
        min_active_days=given["min_active_days"], buffer=given["buffer"],
        max_days=given["max_days"],
    )  # fmt: skip


def _write(path: Path, rows: Iterable[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        out.writelines(exports.csv_lines(rows))
