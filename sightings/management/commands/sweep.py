from __future__ import annotations

from django.core.management.base import BaseCommand

from sightings.resumable import remove_stale
from sightings.sweep import send_lost_work


class Command(BaseCommand):
    help = """Send again the work whose message was lost and remove resumable uploads left
    unfinished for RESUMABLE_UPLOAD_KEEP_DAYS (what Celery beat runs every
    SWEEP_INTERVAL_SECONDS); prints how many of each."""

    def handle(self, *args, **options) -> None:
        for what, count in send_lost_work().items():
            self.stdout.write(f"{what}: {count}")
        self.stdout.write(f"stale resumable uploads removed: {remove_stale()}")
