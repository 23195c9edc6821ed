from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import io
import os
import re
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
from django.core.files import File
from django.db import connection
from django.test import Client, RequestFactory

from neaspec_traps import broker
from neaspec_traps.celery import app as celery_app
from sightings import classification, ingest, tasks
from sightings.management.commands.rundev import worker_command
from sightings.models import (
    Country,
    Deployment,
    Individual,
    Location,
    Media,
    Membership,
    Sighting,
    Species,
    Team,
)

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


# Records of both teams for the API's tests, from real camera-trap images through the real
# upload, processing and naming code.

STATION_A = CAMTRAPR / "sample_images_species_dir" / "StationA"
RECONYX = TESTDATA / "camera-trap" / "camtrap-dp-example" / "media"


def record(deployment: Deployment, user, path: Path) -> Media:
    """An image uploaded in a batch of its own, processed and grouped as a worker would."""
    data = path.read_bytes()
    batch = deployment.batches.create(uploaded_by=user)
    media = ingest.add_file(
        batch, File(io.BytesIO(data), name=path.name), name=path.name, folder="",
        sha256=hashlib.sha256(data).hexdigest(),
    )  # fmt: skip
    tasks.process_media.apply(args=(media.pk,))
    tasks.group_new_media.apply(args=(media.deployment_id,))
    media.refresh_from_db()
    return media


def name(media: Media, species: str, user, reviewer=None, individual=None) -> Sighting:
    """Name the image's sighting as a person; approved by the reviewer, if one is given."""
    sighting = Sighting.objects.get(event=media.event_id)
    naming = classification.Naming(Species.objects.get(name_en=species), individual=individual)
    sighting = classification.classify(sighting, sighting.version, naming, user)
    if reviewer is not None:
        classification.review(sighting, "approved", reviewer, sighting.version)
    return Sighting.objects.get(pk=sighting.pk)


@pytest.fixture
def records(viewers, cn_team, cn_deployment, ru_deployment) -> dict:
    """The Chinese team's station HC-07 with an approved tiger (so the station is protected),
    a pending tiger and a pending boar; its station HC-09 with only a pending boar (nothing
    of it shared); the Russian team's station KP-12 with an approved tiger; and the Chinese
    team's tiger PT-CN-001, named on the approved sighting."""
    alice, ru_uploader = viewers["cn-uploader"], viewers["ru-uploader"]
    hidden = Deployment.objects.create(
        location=Location.objects.create(
            team=cn_team, name="HC-09", latitude=43.2311, longitude=130.8127, country=Country.CN
        ),
        start_at=dt.datetime(2009, 4, 1, tzinfo=dt.UTC),
        time_zone="Asia/Shanghai",
    )
    individual = Individual.objects.create(
        species=Species.objects.get(name_en="Amur tiger"), code="PT-CN-001", team=cn_team
    )
    pbe, vta = STATION_A / "PBE/StationA__2009-04-", STATION_A / "VTA/StationA__2009-04-"
    media = {
        "tiger": record(cn_deployment, alice, Path(f"{pbe}21__00-40-00(1).JPG")),
        "pending_tiger": record(cn_deployment, alice, Path(f"{pbe}22__20-19-00(1).JPG")),
        "boar": record(cn_deployment, alice, Path(f"{pbe}23__00-07-00(1).JPG")),
        "hidden_boar": record(hidden, alice, Path(f"{vta}10__05-07-00(1).JPG")),
        "ru_tiger": record(ru_deployment, ru_uploader, RECONYX / "20210531082538-RCNX0031.JPG"),
    }
    reviewers = {"tiger": viewers["cn-reviewer"], "ru_tiger": viewers["ru-reviewer"]}
    species = {"boar": "Wild boar", "hidden_boar": "Wild boar"}
    sightings = {
        key: name(image, species.get(key, "Amur tiger"), image.batch.uploaded_by,
                  reviewers.get(key), individual if key == "tiger" else None)
        for key, image in media.items()
    }  # fmt: skip
    return {
        "users": viewers,
        "media": media,
        "sightings": sightings,
        "individual": individual,
        "hidden": hidden,
    }


# camtrapR's sample: its card of Station/Species folders and its station table.

CAMTRAPR_SPECIES_MAP = """PBE,Prionailurus bengalensis
MNE,Macaca nemestrina
VTA,Viverra tangalunga
EGY,Echinosorex gymnura
TRA,Tragulus
UNID,unknown
"""
_TASK = re.compile(r"Task [\w.]+\[([0-9a-f-]+)\] (received|succeeded|raised|failed|retry)")


def wait_until_quiet(worker: WorkerProcess, timeout: float = 180) -> None:
    """Until the worker has nothing left of the test's: images processed, nothing waiting to
    be grouped or judged independent, and every task it received finished (its tasks take
    their pending row off before they run), so no data is emptied under a running task."""
    from sightings.models import PendingGrouping, PendingIndependence

    def quiet() -> bool:
        running: set[str] = set()
        for task, what in _TASK.findall(worker.text()):
            (running.add if what == "received" else running.discard)(task)
        busy = Media.objects.filter(state__in=[Media.State.QUEUED, Media.State.PROCESSING])
        pending = PendingGrouping.objects.exists() or PendingIndependence.objects.exists()
        return not running and not pending and not busy.exists()

    wait_until(quiet, timeout, worker.text)


@pytest.fixture
def camtrapr_sample(tmp_path, catalogue, alice, cn_team, celery_worker) -> Team:
    """The sample_images_species_dir card imported through the pipeline (camera clocks in
    Asia/Kuala_Lumpur, as camtrapR's vignette reads them), then camtrapR's station table
    camtraps.csv (dates as dmy), with the worker done with both. Returns the team."""
    from django.core.management import call_command

    species_map = tmp_path / "species.csv"
    species_map.write_text(CAMTRAPR_SPECIES_MAP)
    quiet = {"stdout": io.StringIO(), "stderr": io.StringIO()}
    call_command(
        "import_folder", str(CAMTRAPR / "sample_images_species_dir"), "--team", cn_team.name,
        "--timezone", "Asia/Kuala_Lumpur", "--species-map", str(species_map), "--add-species",
        **quiet,
    )  # fmt: skip
    call_command(
        "import_stations", str(CAMTRAPR / "camtraps.csv"), "--team", cn_team.name,
        "--date-format", "dmy", **quiet,
    )  # fmt: skip
    wait_until_quiet(celery_worker)
    return cn_team
