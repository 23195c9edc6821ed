from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from sightings import camtrapdp_export
from sightings.management import options


class Command(BaseCommand):
    help = """Write a Camtrap DP 1.0.2 package (zip) of the sightings the browser's filters find,
    validated before it is written.

    With --user, as that user sees them in the browser (other teams' protected stations on the
    grid, only their approved sightings). Without it, as a site admin: everything, with exact
    coordinates, which is for the installation's own use, not for sharing with other teams."""

    def add_arguments(self, parser) -> None:
        parser.add_argument("out", metavar="OUT.zip")
        options.add_filter_arguments(parser)

    def handle(self, *args, **given) -> None:
        viewer = options.viewer(given)
        try:
            sightings = camtrapdp_export.filtered(viewer, options.query(given))
            summary = camtrapdp_export.build(viewer, sightings, Path(given["out"]))
        except camtrapdp_export.BadFilters as bad:
            raise CommandError(f"Bad filters: {bad.errors}") from None
        except camtrapdp_export.NothingToExport:
            raise CommandError(
                "Nothing to export: no sighting found has a located station."
            ) from None
        line = (
            f"{given['out']}: {summary.observations} event observations, "
            f"{summary.media_observations} media observations, {summary.media} media, "
            f"{len(summary.deployments)} deployments"
        )
        if summary.left_out:
            line += f"; {summary.left_out} sightings at stations without coordinates left out"
        self.stdout.write(line)
