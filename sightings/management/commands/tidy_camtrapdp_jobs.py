from __future__ import annotations

from django.core.management.base import BaseCommand

from sightings.camtrapdp_jobs import tidy


class Command(BaseCommand):
    help = """Remove Camtrap DP packages built or uploaded more than EXPORT_KEEP_DAYS ago, and
    send again once, or fail, exports and imports not heard from for EXPORT_STALL_MINUTES
    (what Celery beat runs every minute); prints how many of each."""

    def handle(self, *args, **options) -> None:
        for what, count in tidy().items():
            self.stdout.write(f"{what}: {count}")
