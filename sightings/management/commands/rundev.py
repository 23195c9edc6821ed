from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


def worker_command(concurrency: int | None = None) -> list[str]:
    """The command line of a real Celery worker for this project."""
    command = [sys.executable, "-m", "celery", "-A", "neaspec_traps", "worker", "-l", "INFO"]
    if concurrency:
        command += ["--concurrency", str(concurrency)]
    return command


class Command(BaseCommand):
    help = """Run the app for development: migrate, seed demo data, start a Celery worker and
    the web server. Ctrl-C stops both."""

    def add_arguments(self, parser) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")

    def handle(self, *args, **options) -> None:
        # runserver's autoreloader runs this command again in a child process (RUN_MAIN set):
        # that child only serves; set-up and the worker belong to the first process.
        if os.environ.get("RUN_MAIN"):
            call_command("runserver", options["addrport"])
            return
        call_command("migrate", interactive=False, verbosity=0)
        call_command("seed_demo", stdout=self.stdout)
        # A lower CPU priority keeps pages responsive while a card is being processed.
        worker = subprocess.Popen(worker_command(), preexec_fn=lambda: os.nice(10))
        self.stdout.write(
            f"\nOpen http://{options['addrport']}/ and log in as cn-uploader / demo "
            f"(other demo users above). Database: {settings.DATABASES['default']['NAME']}; "
            f"broker: {settings.CELERY_BROKER_URL}\n"
        )
        try:
            call_command("runserver", options["addrport"])
        finally:
            worker.terminate()
            worker.wait(timeout=30)
