from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from sightings import effort, exports, survey
from sightings.management import options


class Command(BaseCommand):
    help = """Write camtrapR's survey report (surveyReport()) as CSV: per station and species
    (Station, Species as its scientific name, n_events: independent detections,
    n_trap_nights_active: the station's camera operation summed, rai_per_100_trap_nights),
    and with --dates-out per station (camtrapR's survey_dates: setup, retrieval, first and
    last record, cameras, calendar days total, active and inactive, trap nights). Detections
    by the site's rule, or at --min-delta minutes; stations and effort as camera_operation
    with the same options (sightings/survey.py)."""

    def add_arguments(self, parser) -> None:
        parser.add_argument("--out", required=True, type=Path)
        parser.add_argument("--dates-out", type=Path, help="the table per station (CSV)")
        parser.add_argument("--min-delta", type=float, metavar="MINUTES")
        options.add_operation_arguments(parser)
        options.add_filter_arguments(parser)

    def handle(self, *args, **given) -> None:
        viewer = options.viewer(given)
        filterset = options.filtered(viewer, given)
        cameras, operation = options.camera_operation(viewer, filterset, given)
        found = survey.events(filterset.qs, given["min_delta"])
        try:
            _write(given["out"], survey.event_rows(operation, found))
        except effort.OperationError as error:
            raise CommandError(str(error)) from None
        if given["dates_out"]:
            _write(given["dates_out"], survey.station_rows(operation, cameras, found))
        self.stdout.write(
            f"{given['out']}: {len(operation.rows)} stations, "
            f"{sum(item.count for item in found)} independent detections"
        )


def _write(path: Path, rows: Iterable[list[str]]) -> None:
    rows = list(rows)  # first, so that a refusal leaves no half-written file
    with path.open("w", newline="", encoding="utf-8") as out:
        out.writelines(exports.csv_lines(rows))
