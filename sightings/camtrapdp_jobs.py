"""Camtrap DP exports and imports run by workers (ExportJob, ImportJob): each starts once,
is heard from while it runs, and is tidied up after.

- A job starts with a conditional UPDATE from "queued" (claim), so a message delivered
  twice, or a job sent again while its first message still waits, runs it once.
- A running job notes itself alive every HEARTBEAT_SECONDS from a thread of its own
  (Heartbeat): validating a million rows says nothing for twenty minutes, and the thread
  dies with the worker's process, which is what has to be noticed.
- tidy() (Celery beat, every minute) removes packages built and packages uploaded
  EXPORT_KEEP_DAYS after they were asked for, with whatever a killed request or build left
  in exports/ and imports/; and sends again, once, a job not heard from for
  EXPORT_STALL_MINUTES, failing it with a reason the second time. Export and import tasks
  are acknowledged on receipt (tasks.py), so a job whose worker died has no message left:
  this is what brings it back.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import threading
from functools import partial
from pathlib import Path

import kombu.exceptions
from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.db.models import Model, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_noop

from sightings.models import ExportJob, ImportJob, Media

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 60
FOLDERS = ("exports", "imports")
STALLED = gettext_noop(
    "The worker doing this job stopped twice before it could finish, so it was given up: "
    "nothing was half-done. Try again, and tell a site admin if it happens again."
)


def claim(jobs: QuerySet, state: str) -> bool:
    """Start the queued job: True for exactly one caller, whichever message came first."""
    return jobs.filter(state="queued").update(state=state, progress_at=timezone.now()) == 1


class Heartbeat:
    """While the block runs, note the job alive (progress_at) every HEARTBEAT_SECONDS."""

    def __init__(self, jobs: QuerySet, seconds: float = HEARTBEAT_SECONDS) -> None:
        self.jobs, self.seconds = jobs, seconds
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, name="job-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        self.thread.join()

    def _beat(self) -> None:
        try:
            while not self.stopped.wait(self.seconds):
                try:
                    self.jobs.update(progress_at=timezone.now())
                except DatabaseError as error:
                    # SQLite, while the job's own transaction holds its one writer's lock.
                    logger.warning("Heartbeat of %s not noted: %s", self.jobs.model, error)
        finally:
            connections.close_all()  # this thread's own


def tidy(now: dt.datetime | None = None) -> dict[str, int]:
    """Remove old packages and send again or fail jobs whose worker was lost; return how
    many of each."""
    now = now or timezone.now()
    kept_since = now - dt.timedelta(days=settings.EXPORT_KEEP_DAYS)
    sent, failed = revive_stalled(now)
    return {
        "files removed": remove_old_files(kept_since) + remove_leftovers(kept_since),
        "jobs sent again": sent,
        "jobs failed": failed,
    }


def remove_old_files(kept_since: dt.datetime) -> int:
    """Remove the packages of finished jobs asked for before kept_since; the jobs stay, to
    say what they did."""
    removed = 0
    for model in (ExportJob, ImportJob):
        old = model.objects.filter(created_at__lt=kept_since).exclude(file="")
        for job in old.exclude(state__in=model.ACTIVE):
            job.file.delete(save=False)
            model.objects.filter(pk=job.pk).update(file="")
            removed += 1
    return removed


def remove_leftovers(kept_since: dt.datetime) -> int:
    """Remove what no job holds in exports/ and imports/ once it is as old as a job's
    package: a package whose request was killed before it removed it, a build's folder."""
    removed = 0
    for name in FOLDERS:
        folder = Path(settings.MEDIA_ROOT) / name
        for path in folder.iterdir() if folder.is_dir() else ():
            if path.stat().st_mtime >= kept_since.timestamp():
                continue
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed += 1
    return removed


def revive_stalled(now: dt.datetime) -> tuple[int, int]:
    """Send again, once, each job not heard from for EXPORT_STALL_MINUTES; fail it the
    second time. Returns how many were sent again and how many failed."""
    since = now - dt.timedelta(minutes=settings.EXPORT_STALL_MINUTES)
    sent = failed = 0
    for model in (ExportJob, ImportJob):
        for job in model.objects.filter(state__in=model.ACTIVE, progress_at__lt=since):
            if job.state == model.State.QUEUED and _waits_its_turn(job, since):
                continue
            if job.attempt_count == 0:
                sent += _send_again(job, now)
            else:
                failed += _fail(job, now)
    return sent, failed


def _waits_its_turn(job: Model, since: dt.datetime) -> bool:
    """Whether a queued job may only be waiting behind earlier work: images sent before it
    not processed yet (the queue hands out messages in the order they were sent), or an
    export or import still running (its worker may hold the job's message behind it)."""
    earlier = Media.objects.filter(
        state__in=[Media.State.QUEUED, Media.State.PROCESSING], sent_at__lt=job.progress_at
    )
    running = [
        model.objects.filter(state__in=model.RUNNING, progress_at__gte=since)
        for model in (ExportJob, ImportJob)
    ]
    return earlier.exists() or any(jobs.exists() for jobs in running)


def _unchanged(job: Model) -> QuerySet:
    """The job as it was read: a job that moved on since is left alone."""
    return type(job).objects.filter(pk=job.pk, state=job.state, progress_at=job.progress_at)


def _send_again(job: Model, now: dt.datetime) -> int:
    from sightings import tasks  # here: tasks imports this module

    restart = {"state": "queued", "attempt_count": 1, "progress_at": now}
    if isinstance(job, ExportJob):
        restart["done"] = 0
    if not _unchanged(job).update(**restart):
        return 0
    logger.warning("%s %s lost its worker; sent again", type(job).__name__, job.pk)
    task = tasks.build_export if isinstance(job, ExportJob) else tasks.import_camtrapdp
    transaction.on_commit(partial(_send, task, str(job.pk)))
    return 1


def _send(task, job_id: str) -> None:
    try:
        task.delay(job_id)
    except kombu.exceptions.OperationalError as error:
        # It waits as queued; not heard from again, it fails at a later run.
        logger.warning("The broker did not take %s %s: %s", task.name, job_id, error)


def _fail(job: Model, now: dt.datetime) -> int:
    logger.warning("%s %s lost its worker again; failed", type(job).__name__, job.pk)
    return _unchanged(job).update(state="failed", failure_reason=STALLED, finished_at=now)
