from __future__ import annotations

import os
import signal
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
        # Ctrl-C must stop it even where it was started with SIGINT ignored (as a shell
        # starts a command in the background with &, which Python then leaves ignored).
        signal.signal(signal.SIGINT, signal.default_int_handler)
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
            lambda: subprocess.Popen(
                worker_command(beat=True), preexec_fn=lambda: os.nice(10), process_group=0
            ),
        )
        self.stdout.write(
            f"\nOpen http://{options['addrport']}/ and log in as cn-uploader / demo "
            f"(other demo users above). Database: {settings.DATABASES['default']['NAME']}; "
            f"broker: {settings.CELERY_BROKER_URL}\n"
        )
        # Closing the terminal (SIGHUP) or a service manager's stop (SIGTERM) must stop the
        # services too: each is in a process group of its own, which only Ctrl-C's way out
        # of runserver (the finally below) reaches.
        for number in (signal.SIGHUP, signal.SIGTERM):
            signal.signal(number, _exit)
        try:
            call_command("runserver", options["addrport"])
        finally:
            services.stop()


def _exit(number: int, frame) -> None:
    raise SystemExit(128 + number)


class Supervisor:
    """Keeps development services running: one that stops is started again, and says so."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.say = say
        self.services: list[Service] = []
        self.stopping = threading.Event()
        # Held while a service is started or the stop begins: Ctrl-C stops the services
        # too, and one the watcher starts again during the stop would outlive it.
        self.lock = threading.Lock()
        threading.Thread(target=self._watch, daemon=True).start()

    def add(self, name: str, start: Callable[[], subprocess.Popen]) -> None:
        self.services.append(Service(name, start))

    def stop(self) -> None:
        with self.lock:
            self.stopping.set()
        for service in reversed(self.services):
            service.signal(signal.SIGTERM)
        for service in reversed(self.services):
            try:
                service.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
            service.signal(signal.SIGKILL)  # whatever of it is left

    def _watch(self) -> None:
        while not self.stopping.wait(1):
            for service in self.services:
                if service.process.poll() is not None:
                    self._restart(service)

    def _restart(self, service: Service) -> None:
        # A worker killed outright (out of memory, say) leaves its pool and its embedded
        # beat behind, and a second beat would send every periodic task twice.
        service.signal(signal.SIGKILL)
        delay = service.died(self.say)
        if self.stopping.wait(delay):
            return
        with self.lock:
            if not self.stopping.is_set():
                service.begin()


class Service:
    def __init__(self, name: str, start: Callable[[], subprocess.Popen]) -> None:
        self.name, self.start, self.quick_deaths = name, start, 0
        self.begin()

    def begin(self) -> None:
        # Each service is the leader of a process group of its own (process_group=0), so
        # that it can be stopped with everything it started, and Ctrl-C in the terminal
        # reaches this command only, which stops the services in order.
        self.process, self.started_at = self.start(), time.monotonic()

    def signal(self, number: int) -> None:
        """Send the signal to the service and every process it started."""
        try:
            os.killpg(self.process.pid, number)
        except ProcessLookupError:
            pass  # all gone already

    def died(self, say: Callable[[str], None]) -> float:
        """Say so; the seconds to wait before starting it again: one that keeps dying at
        once is started again less and less often."""
        lived = time.monotonic() - self.started_at
        self.quick_deaths = self.quick_deaths + 1 if lived < 60 else 0
        delay = min(2**self.quick_deaths, 30) if self.quick_deaths else 0
        say(
            f"\n{self.name} stopped (exit code {self.process.returncode}); starting it again"
            f"{f' in {delay} s' if delay else ''}.\n"
        )
        return delay
