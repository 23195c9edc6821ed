from __future__ import annotations

import datetime as dt
import importlib
import os
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client, RequestFactory

from neaspec_traps import broker
from neaspec_traps.celery import app as celery_app
from sightings.management.commands.rundev import worker_command
from sightings.models import Country, Deployment, Location, Membership, Team

BASE_DIR = Path(__file__).resolve().parents[1]
# Real test images and exiftool's reading of them, in the repository (tests/data/README.md).
TESTDATA = BASE_DIR / "tests" / "data"
CAMTRAPR = TESTDATA / "camera-trap" / "camtrapR"


@pytest.fixture(scope="session")
def media_root(tmp_path_factory) -> Path:
    # One folder for the whole session, because the worker process shares it.
    return tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def _test_settings(settings, media_root: Path) -> None:
    settings.MEDIA_ROOT = media_root
    settings.FILE_UPLOAD_TEMP_DIR = media_root / "incoming"
    settings.FILE_UPLOAD_TEMP_DIR.mkdir(exist_ok=True)
    # For speed:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class LoginClient(Client):
    """Django's test client, whose login() gives authenticate() a request as the login page
    does: django-axes counts failures by the request's address and refuses a login without one.
    """

    def login(self, **credentials) -> bool:
        return super().login(request=RequestFactory().post("/login/"), **credentials)


@pytest.fixture
def client() -> Client:
    return LoginClient()


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix) -> None:
    # The worker is another process, so a SQLite test database must be a file, not memory.
    database = connection.settings_dict
    if database["ENGINE"].endswith("sqlite3"):
        database.setdefault("TEST", {})["NAME"] = str(BASE_DIR / "var" / "test.sqlite3")


@pytest.fixture
def catalogue(transactional_db) -> None:
    """The species catalogue, again: a transactional test empties the tables after it, data
    migrations included."""
    from django.apps import apps

    importlib.import_module("sightings.migrations.0002_species_catalogue").seed_species(apps, None)


# The cast. Alice uploads for a Chinese team; Boris reviews for a Russian team and may not
# upload anywhere; Charlie has an account but no team; the site admin runs the installation.


@pytest.fixture
def cn_team(db) -> Team:
    return Team.objects.create(name="Hunchun", country=Country.CN)


@pytest.fixture
def ru_team(db) -> Team:
    return Team.objects.create(name="Land of the Leopard", country=Country.RU)


@pytest.fixture
def cn_deployment(cn_team: Team) -> Deployment:
    location = Location.objects.create(
        team=cn_team, name="HC-07", latitude=43.0853, longitude=130.9564, country=Country.CN
    )
    return Deployment.objects.create(
        location=location,
        start_at=dt.datetime(2009, 4, 1, tzinfo=dt.UTC),
        end_at=dt.datetime(2009, 6, 1, tzinfo=dt.UTC),
        time_zone="Asia/Shanghai",
    )


@pytest.fixture
def ru_deployment(ru_team: Team) -> Deployment:
    location = Location.objects.create(
        team=ru_team, name="KP-12", latitude=43.1017, longitude=131.4852, country=Country.RU
    )
    return Deployment.objects.create(
        location=location,
        start_at=dt.datetime(2021, 3, 27, tzinfo=dt.UTC),
        time_zone="Asia/Vladivostok",
    )


@pytest.fixture
def alice(django_user_model, cn_team: Team):
    user = django_user_model.objects.create_user("alice", password="password")
    Membership.objects.create(user=user, team=cn_team, role=Membership.Role.UPLOADER)
    return user


@pytest.fixture
def boris(django_user_model, ru_team: Team):
    user = django_user_model.objects.create_user("boris", password="password")
    Membership.objects.create(user=user, team=ru_team, role=Membership.Role.REVIEWER)
    return user


@pytest.fixture
def charlie(django_user_model):
    return django_user_model.objects.create_user("charlie", password="password")


@pytest.fixture
def site_admin(django_user_model):
    return django_user_model.objects.create_superuser("site-admin", password="password")


# A real Celery worker: the project's own worker command in its own process, on the broker
# the settings name (Redis in CI), using the test database and media folder.


# The seven kinds of viewer the permission matrices try, by the names the tests use.
OWN = ["cn-uploader", "cn-reviewer", "cn-admin"]
OTHERS = ["ru-uploader", "ru-reviewer", "ru-admin", "no-team"]
SITE = ["site-admin"]
EVERYONE = OWN + OTHERS + SITE


@pytest.fixture
def viewers(cn_team, ru_team, alice, boris, charlie, site_admin) -> dict:
    """A user for each name in EVERYONE, with that role in that team."""
    users = {
        "cn-uploader": alice,
        "ru-reviewer": boris,
        "no-team": charlie,
        "site-admin": site_admin,
    }
    for name, team, role in [
        ("cn-reviewer", cn_team, Membership.Role.REVIEWER),
        ("cn-admin", cn_team, Membership.Role.ADMIN),
        ("ru-uploader", ru_team, Membership.Role.UPLOADER),
        ("ru-admin", ru_team, Membership.Role.ADMIN),
    ]:
        users[name] = get_user_model().objects.create_user(name, f"{name}@example.org")
        Membership.objects.create(user=users[name], team=team, role=role)
    return users


@pytest.fixture(scope="session", autouse=True)
def local_broker() -> Iterator[None]:
    """The development broker when nothing else is configured (`make test` on a fresh
    machine), as `make run` starts it; one already running (make run's) is shared."""
    from django.conf import settings

    started = None
    if settings.CELERY_BROKER_URL == settings.LOCAL_BROKER_URL:
        if not broker.answers(settings.LOCAL_BROKER_DIR):
            started = broker.start_redis(settings.LOCAL_BROKER_DIR)
    yield
    if started is not None:
        started.terminate()
        started.wait(timeout=30)


@pytest.fixture(scope="session", autouse=True)
def celery_queue(local_broker) -> Iterator[str]:
    # A queue of its own keeps a developer's running worker, and stale messages of earlier
    # runs, away from the test worker.
    queue = f"test-{uuid.uuid4().hex[:8]}"
    celery_app.conf.task_default_queue = queue
    yield queue
    with celery_app.connection_for_write() as conn:
        conn.default_channel.queue_purge(queue)


@contextmanager
def running_worker(queue: str, media_root: Path, concurrency: int = 1) -> Iterator[WorkerProcess]:
    environment = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "MEDIA_ROOT": str(media_root),
        "FILE_UPLOAD_TEMP_DIR": str(media_root / "incoming"),
        "CELERY_QUEUE": queue,  # the worker's own tasks (independence) go there too
    }
    command = worker_command(concurrency) + ["--without-gossip", "--without-mingle"]
    process = subprocess.Popen(
        command, env=environment, cwd=BASE_DIR, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    worker = WorkerProcess(process)
    try:
        worker.wait_for_log("ready.")
        yield worker
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


class WorkerProcess:
    """A worker process and what it has logged so far."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.process = process
        self.log: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.log.append(line)

    def text(self) -> str:
        return "".join(self.log)

    def wait_for_log(self, text: str, timeout: float = 60) -> None:
        wait_until(lambda: text in self.text(), timeout, self.text())

    def child_pids(self) -> list[int]:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()]


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, celery_queue, media_root):
    with running_worker(celery_queue, media_root) as worker:
        yield worker


def _database_url() -> str:
    database = connection.settings_dict
    if database["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{database['NAME']}"
    user = quote(database["USER"] or "", safe="")
    password = quote(database["PASSWORD"] or "", safe="")
    credentials = f"{user}:{password}@" if user else ""
    return (
        f"postgres://{credentials}{database['HOST'] or 'localhost'}:{database['PORT'] or 5432}"
        f"/{database['NAME']}"
    )


def wait_until(
    condition: Callable[[], object], timeout: float = 60, context: str | Callable[[], str] = ""
) -> None:
    """Poll until the condition holds; fail the test after the timeout, saying the context
    (a callable: as it is then)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            context = context() if callable(context) else context
            pytest.fail(f"Timed out after {timeout} s waiting.\n{context[-4000:]}")
        time.sleep(0.1)


def wait_for_the_pipeline(worker: WorkerProcess, timeout: float = 180) -> None:
    """Wait until the worker has nothing left of the test's: images processed, grouping and
    independence requests done, so that the test's data is not emptied under a running task."""
    from sightings.models import Media, PendingGrouping, PendingIndependence

    def idle() -> bool:
        busy = Media.objects.filter(state__in=[Media.State.QUEUED, Media.State.PROCESSING])
        waiting = PendingGrouping.objects.exists() or PendingIndependence.objects.exists()
        return not busy.exists() and not waiting

    wait_until(idle, timeout, worker.text)
