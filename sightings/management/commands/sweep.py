from __future__ import annotations

from django.core.management.base import BaseCommand

from sightings.sweep import send_lost_work


class Command(BaseCommand):
    help = """Send again the work whose message was lost (what Celery beat runs every
    SWEEP_INTERVAL_SECONDS); prints how many of each were sent."""

    def handle(self, *args, **options) -> None:
        for what, count in send_lost_work().items():
            self.stdout.write(f"{what}: {count}")
