from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from neaspec_traps import broker


def worker_command(concurrency: int | None = None, beat: bool = False) -> list[str]:
    """The command line of a real Celery worker for this project (beat: with the scheduler
    of the sweep embedded, as one development machine needs)."""
    command = [sys.executable, "-m", "celery", "-A", "neaspec_traps", "worker", "-l", "INFO"]
    if concurrency:
        command += ["--concurrency", str(concurrency)]
    if beat:
        command += ["--beat", "--schedule", str(settings.VAR_DIR / "celerybeat-schedule")]
    return command


class Command(BaseCommand):
    help = """Run the app for development: migrate, seed demo data, start the broker, a Celery
    worker with the sweep's scheduler and the web server, and keep the broker and worker
    running. Ctrl-C stops them all."""

    def add_arguments(self, parser) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")

    def handle(self, *args, **options) -> None:
        # runserver's autoreloader runs this command again in a child process (RUN_MAIN set):
        # that child only serves; set-up and the services belong to the first process.
        if os.environ.get("RUN_MAIN"):
            call_command("runserver", options["addrport"])
            return
        call_command("migrate", interactive=False, verbosity=0)
        call_command("seed_demo", stdout=self.stdout)
        services = Supervisor(self.stdout.write)
        if settings.CELERY_BROKER_URL == settings.LOCAL_BROKER_URL:
            folder = settings.LOCAL_BROKER_DIR
            services.add("the broker (Redis)", lambda: broker.start_redis(folder))
        # A lower CPU priority keeps pages responsive while a card is being processed.
        services.add(
            "the Celery worker",
            lambda: subprocess.Popen(worker_command(beat=True), preexec_fn=lambda: os.nice(10)),
        )
        self.stdout.write(
            f"\nOpen http://{options['addrport']}/ and log in as cn-uploader / demo "
            f"(other demo users above). Database: {settings.DATABASES['default']['NAME']}; "
            f"broker: {settings.CELERY_BROKER_URL}\n"
        )
        try:
            call_command("runserver", options["addrport"])
        finally:
            services.stop()


class Supervisor:
    """Keeps development services running: one that stops is started again, and says so."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.say = say
        self.services: list[Service] = []
        self.stopping = threading.Event()
        threading.Thread(target=self._watch, daemon=True).start()

    def add(self, name: str, start: Callable[[], subprocess.Popen]) -> None:
        self.services.append(Service(name, start))

    def stop(self) -> None:
        self.stopping.set()
        for service in reversed(self.services):
            service.process.terminate()
        for service in reversed(self.services):
            try:
                service.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                service.process.kill()

    def _watch(self) -> None:
        while not self.stopping.wait(1):
            for service in self.services:
                if service.process.poll() is not None and not self.stopping.is_set():
                    service.restart(self.say)


class Service:
    def __init__(self, name: str, start: Callable[[], subprocess.Popen]) -> None:
        self.name, self.start = name, start
        self.process, self.started_at, self.quick_deaths = start(), time.monotonic(), 0

    def restart(self, say: Callable[[str], None]) -> None:
        # One that keeps dying at once is started again less and less often.
        lived = time.monotonic() - self.started_at
        self.quick_deaths = self.quick_deaths + 1 if lived < 60 else 0
        delay = min(2**self.quick_deaths, 30) if self.quick_deaths else 0
        say(
            f"\n{self.name} stopped (exit code {self.process.returncode}); starting it again"
            f"{f' in {delay} s' if delay else ''}.\n"
        )
        time.sleep(delay)
        self.process, self.started_at = self.start(), time.monotonic()
