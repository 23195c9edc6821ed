from __future__ import annotations

from django.core.management.base import BaseCommand

from sightings.digests import send_all


class Command(BaseCommand):
    help = """E-mail each reviewer and uploader, at most once a day, how many sightings wait
    for their review and how many came back to them (what Celery beat runs every hour)."""

    def handle(self, *args, **options) -> None:
        self.stdout.write(f"Digests sent: {send_all()}")
