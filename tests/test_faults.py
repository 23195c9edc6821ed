"""Faults are normal: workers die, brokers restart, databases restart, messages get lost.

Each test runs the stack in processes of its own: a Redis broker that keeps nothing across
a restart (as CI's), a web server, and a Celery worker with the sweep's scheduler every
2 s, on the configured database (PostgreSQL in CI, SQLite by default). It uploads a card
over HTTP, breaks one part while the card is being processed, and checks that every image
ends processed (or failed with a reason) and in an event, and that nothing exists twice.
The time from the fault to a finished card is printed (README, "What survives what").
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection
from PIL import Image

from neaspec_traps import broker
from sightings.management.commands.rundev import worker_command
from sightings.models import Event, Media, Sighting

from .conftest import BASE_DIR, _database_url, wait_until
from .test_rundev import Browser, free_port

CARD = 24
SWEEP_SECONDS = 2


@pytest.fixture(scope="session")
def card(tmp_path_factory) -> list[tuple[str, bytes]]:
    """A card of camera JPEGs ten minutes apart, each its own event, each taking a worker
    some 50-100 ms, so that a fault lands while the card is being processed."""
    images = []
    for number in range(CARD):
        exif = Image.Exif()
        exif.get_ifd(0x8769)[0x9003] = f"2009:04:21 {number // 6:02d}:{number % 6 * 10:02d}:00"
        buffer = io.BytesIO()
        noise = Image.effect_noise((2400, 1800), 40 + number).convert("RGB")
        noise.save(buffer, "JPEG", quality=85, exif=exif)
        images.append((f"IMG_{number:04d}.JPG", buffer.getvalue()))
    return images


class Stack:
    """A broker, a web server and a worker in processes of their own."""

    def __init__(self, folder: Path, media_root: Path) -> None:
        self.folder = folder
        self.broker_folder = folder / "broker"
        self.broker = broker.start_redis(self.broker_folder, persistent=False)
        self.port = free_port()
        self.environment = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "CELERY_BROKER_URL": f"redis+socket://{broker.socket_path(self.broker_folder)}",
            "CELERY_QUEUE": f"faults-{uuid.uuid4().hex[:8]}",
            "MEDIA_ROOT": str(media_root),
            "FILE_UPLOAD_TEMP_DIR": str(media_root / "incoming"),
            "VAR_DIR": str(folder),
            "SWEEP_INTERVAL_SECONDS": str(SWEEP_SECONDS),
            # A worker killed mid-image leaves that image "processing" until the time
            # limit has passed (it might only be slow): short here, 180 s by default.
            "CELERY_TASK_SOFT_TIME_LIMIT": "8",
            "CELERY_TASK_TIME_LIMIT": "10",
        }
        self.web = self._start([sys.executable, "manage.py", "runserver", "--noreload",
                                f"127.0.0.1:{self.port}"])  # fmt: skip
        self.worker = self.start_worker()
        self.browser = Browser(f"http://127.0.0.1:{self.port}")
        wait_until(self._answers, 60)

    def _start(self, command: list[str]) -> subprocess.Popen:
        # A session of its own: a fault test kills the whole process group. Its output goes
        # to a log that a failing test shows.
        log = (self.folder / "stack.log").open("a")
        return subprocess.Popen(
            command, cwd=BASE_DIR, env=self.environment, start_new_session=True,
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def log(self) -> str:
        """The last of what the stack's processes said (the whole log stays in the folder)."""
        return (self.folder / "stack.log").read_text()[-6000:]

    def start_worker(self) -> subprocess.Popen:
        return self._start(worker_command(1, beat=True) + ["--without-gossip", "--without-mingle"])

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL to the process and, where it leads one, its group (a worker's children)."""
        try:
            if os.getpgid(process.pid) == process.pid:
                os.killpg(process.pid, signal.SIGKILL)
            else:
                process.kill()
        except ProcessLookupError:
            pass
        process.wait()

    def stop_broker(self) -> None:
        self.kill(self.broker)
        # It keeps nothing: whatever messages it held are gone.
        shutil.rmtree(self.broker_folder)

    def start_broker(self) -> None:
        self.broker = broker.start_redis(self.broker_folder, persistent=False)

    def purge_queue(self) -> None:
        import redis

        client = redis.Redis(unix_socket_path=str(broker.socket_path(self.broker_folder)))
        client.delete(self.environment["CELERY_QUEUE"])

    def close(self) -> None:
        for process in (self.worker, self.web, self.broker):
            self.kill(process)

    def _answers(self) -> bool:
        try:
            self.browser.get("/login/")
        except OSError:
            return False
        return True

    def upload(self, deployment_id: int, files: list[tuple[str, bytes]]) -> int:
        """Upload the card as the upload page does, in requests of 12 files; the batch id."""
        batch = None
        for start in range(0, len(files), 12):
            fields = [("batch", str(batch))] if batch else []
            answer = self.browser.upload_files(
                f"/deployments/{deployment_id}/upload/", files[start : start + 12], fields
            )
            batch = answer["batch"]
        return batch


@pytest.fixture
def stack(tmp_path, media_root, client, alice, cn_deployment) -> Stack:
    stack = Stack(tmp_path, media_root)
    # The session of the test client (the server's hashers are not this run's fast one).
    client.force_login(alice)
    stack.browser.use_session(client.cookies["sessionid"].value)
    yield stack
    stack.close()


def progress(batch: int) -> tuple[int, int]:
    """(images done, images in all) of the batch."""
    connection.close()  # a new connection sees the other processes' commits at once
    media = Media.objects.filter(batch=batch)
    return media.exclude(state__in=["queued", "processing"]).count(), media.count()


def some_but_not_all_done(batch: int) -> bool:
    done, total = progress(batch)
    return 0 < done < CARD or total < CARD


def finished(batch: int) -> bool:
    done, total = progress(batch)
    grouped = not Media.objects.filter(batch=batch).ungrouped().exists()
    return total == CARD and done == total and grouped


def assert_the_card_is_whole(batch: int) -> None:
    media = Media.objects.filter(batch=batch)
    assert media.count() == CARD
    assert not media.filter(state__in=["queued", "processing"]).exists()
    assert not media.filter(state="failed", failure_reason="").exists()
    processed = media.filter(state="processed")
    assert processed.count() == CARD, list(media.values_list("state", "failure_reason"))
    assert not processed.filter(event=None).exists()
    # Nothing twice: each image in one event, events apart, one draft sighting each.
    events = list(Event.objects.filter(media__batch=batch).distinct().order_by("start_at"))
    assert len(events) == CARD
    for earlier, later in zip(events, events[1:], strict=False):
        assert earlier.end_at < later.start_at
    for event in events:
        assert event.media_count == event.media.count() == 1
        assert Sighting.objects.filter(event=event).count() == 1


def recover(stack: Stack, batch: int, fault: str, started: float, timeout: float = 90) -> None:
    """Wait for the card to finish after the fault; say how long it took, and how much of
    the card was done when the fault ended."""
    done = progress(batch)[0]
    wait_until(
        lambda: finished(batch), timeout, lambda: f"{fault}: {progress(batch)}\n{stack.log()}"
    )
    took = time.monotonic() - started
    print(f"\n{fault} ({done} of {CARD} images done): the card finished {took:.1f} s later")
    assert_the_card_is_whole(batch)


pytestmark = pytest.mark.django_db(transaction=True)


def test_a_worker_killed_mid_card(stack, card, cn_deployment, catalogue):
    batch = stack.upload(cn_deployment.pk, card)
    wait_until(lambda: progress(batch)[0] > 0, 60)
    stack.kill(stack.worker)  # SIGKILL: it holds images it fetched and never acknowledged
    assert some_but_not_all_done(batch)
    started = time.monotonic()
    stack.worker = stack.start_worker()
    recover(stack, batch, "worker killed", started)


def test_the_broker_restarted_mid_card_losing_its_messages(stack, card, cn_deployment, catalogue):
    batch = stack.upload(cn_deployment.pk, card)
    wait_until(lambda: progress(batch)[0] > 0, 60)
    stack.stop_broker()
    assert some_but_not_all_done(batch)
    started = time.monotonic()
    stack.start_broker()
    recover(stack, batch, "broker restarted, its messages lost", started)


def test_the_queue_purged_under_a_card(stack, card, cn_deployment, catalogue):
    batch = stack.upload(cn_deployment.pk, card)
    wait_until(lambda: progress(batch)[0] > 0, 60)
    stack.purge_queue()
    assert some_but_not_all_done(batch)
    recover(stack, batch, "queue purged", time.monotonic())


def test_an_upload_while_the_broker_is_down(stack, card, cn_deployment, catalogue):
    stack.stop_broker()
    started = time.monotonic()
    batch = stack.upload(cn_deployment.pk, card)  # it succeeds: the work waits, unsent
    assert progress(batch) == (0, CARD)
    assert set(Media.objects.filter(batch=batch).values_list("sent_at", flat=True)) == {None}
    stack.start_broker()
    recover(stack, batch, "upload while the broker was down", started)


def _postgres(action: str) -> list[str] | None:
    """The command that stops or starts the local PostgreSQL cluster, if this run may."""
    if connection.vendor != "postgresql" or os.geteuid() != 0 or not shutil.which("pg_ctlcluster"):
        return None
    if connection.settings_dict["HOST"] not in ("127.0.0.1", "localhost", ""):
        return None
    versions = sorted(Path("/etc/postgresql").glob("*/main"))
    if not versions:
        return None
    return ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1].parent.name, "main",
            action]  # fmt: skip


def test_the_database_down_for_seconds_mid_card(stack, card, cn_deployment, catalogue):
    stop, start = _postgres("stop"), _postgres("start")
    if stop is None:
        pytest.skip("needs the local PostgreSQL cluster and the right to restart it")
    batch = stack.upload(cn_deployment.pk, card)
    wait_until(lambda: progress(batch)[0] > 0, 60)
    assert some_but_not_all_done(batch)
    connection.close()
    # Fast: open transactions are rolled back and every connection is cut at once.
    subprocess.run(stop, check=True, capture_output=True)
    time.sleep(3)
    subprocess.run(start, check=True, capture_output=True)
    recover(stack, batch, "database down for 3 s", time.monotonic())
