"""Celery tasks: thin wrappers that load a row and call one concern function."""

from __future__ import annotations

import logging
import time

import kombu.exceptions
from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import task_prerun, worker_ready
from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext_noop

from sightings import (
    camtrapdp_export,
    camtrapdp_jobs,
    crossborder,
    digests,
    events,
    independence,
    processing,
    workers,
)
from sightings.models import CrossBorderNotice, Deployment, ExportJob, ImportJob, Media

logger = logging.getLogger(__name__)


# Every task here is idempotent (the media's state guards processing, derivative names come
# from the hash, regrouping and independence recompute from the data), so each is
# acknowledged only when done and queued again if its worker process dies on it. Retries
# are for a lost database connection only: a bad file fails once, with its reason.
IDEMPOTENT = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 60,
    "max_retries": 5,
}


@shared_task(**IDEMPOTENT)
def process_media(media_id: int) -> None:
    """Extract metadata and make derivatives for one uploaded file."""
    rows = Media.objects.select_related("deployment").only(*processing.LOADED_FIELDS)
    try:
        media = rows.get(pk=media_id)
    except Media.DoesNotExist:
        logger.warning("Media %s no longer exists; nothing to process", media_id)
        return
    try:
        processing.process_media(media)
    except SoftTimeLimitExceeded:
        limit = f"{settings.CELERY_TASK_SOFT_TIME_LIMIT} s"
        media.mark_failed(gettext_noop("Processing took longer than the time limit."), limit)


@shared_task(**IDEMPOTENT)
def update_independence(location_id: int, species_id: int) -> None:
    """Work out again which sightings of a species at a location are independent."""
    independence.update_series(location_id, species_id)


@shared_task(**IDEMPOTENT)
def regroup_deployment(deployment_id: int) -> None:
    """Correct a deployment's capture times and regroup its events after its clock changed."""
    deployment = Deployment.objects.filter(pk=deployment_id).first()
    if deployment is None:
        logger.warning("Deployment %s no longer exists; nothing to regroup", deployment_id)
        return
    events.regroup_deployment(deployment)


@shared_task(**IDEMPOTENT)
def group_new_media(deployment_id: int) -> None:
    """Group a deployment's newly processed images into events."""
    if not Deployment.objects.filter(pk=deployment_id).exists():
        logger.warning("Deployment %s no longer exists; nothing to group", deployment_id)
        return
    events.group_new_media(deployment_id)


@shared_task(ignore_result=True)
def sweep() -> None:
    """Send again the work whose message was lost (sweep.py) and remove resumable uploads
    left unfinished for days (resumable.py); run by Celery beat."""
    from sightings.resumable import remove_stale  # here: it ingests, which sends these tasks
    from sightings.sweep import send_lost_work  # here: sweep.py sends these tasks

    send_lost_work()
    remove_stale()


@shared_task(ignore_result=True)
def send_review_digests() -> None:
    """The daily review e-mails that are due (digests.py); run by Celery beat every hour."""
    digests.send_all()


@shared_task(**IDEMPOTENT)
def email_cross_border(notice_id: int) -> None:
    """E-mail one person that an individual was first recorded in another country."""
    related = ("user", "record__individual__species", "record__individual__team")
    notice = CrossBorderNotice.objects.select_related(*related).filter(pk=notice_id).first()
    if notice is None:
        logger.warning("Cross-border notice %s no longer exists; nothing to e-mail", notice_id)
        return
    crossborder.send_email(notice)


@task_prerun.connect
def note_worker(task, **kwargs) -> None:
    # Tasks run in-process (apply(), tests) say nothing about workers.
    if not getattr(task.request, "is_eager", False):
        workers.note(task.request.hostname or "worker")


@worker_ready.connect
def note_started_worker(sender, **kwargs) -> None:
    workers.note(sender.hostname)


def send_on_commit(task, *args, pending: QuerySet) -> None:
    """Send the task once the transaction commits, on behalf of the rows that wait for it
    (media queued, pending requests; their sent_at says when it was sent).

    A broker that cannot take the task does not fail what asked for it (an upload, a
    naming): the rows are marked unsent (sent_at None) and the sweep sends the task once
    the broker is back.
    """

    def send() -> None:
        if time.monotonic() < _broker_down_until["at"]:
            pending.update(sent_at=None)
            return
        try:
            task.delay(*args)
        except kombu.exceptions.OperationalError as error:
            logger.warning("The broker did not take %s%s (%s); the sweep sends it", task.name,
                           args, error)  # fmt: skip
            pending.update(sent_at=None)
            # Not tried again for a while: a card's upload must not wait on every image.
            _broker_down_until["at"] = time.monotonic() + BROKER_DOWN_SECONDS

    transaction.on_commit(send)


BROKER_DOWN_SECONDS = 5
_broker_down_until = {"at": 0.0}


# A package of a million observations takes minutes, past the per-image limits. Acknowledged
# on receipt: a worker lost mid-export leaves its job unfinished rather than having Redis
# hand the same long export to another worker after CELERY_VISIBILITY_TIMEOUT; the job's
# heartbeat stops, and tidy_camtrapdp_jobs sends it again (camtrapdp_jobs.py). The same for
# imports.
EXPORT_TIME_LIMIT = 6 * 3600


@shared_task(time_limit=EXPORT_TIME_LIMIT, soft_time_limit=EXPORT_TIME_LIMIT - 60)
def build_export(job_id: str) -> None:
    """Build a Camtrap DP package asked for from the browser (camtrapdp_export.py)."""
    jobs = ExportJob.objects.filter(pk=job_id)
    if not camtrapdp_jobs.claim(jobs, ExportJob.State.BUILDING):
        logger.warning("Export %s is gone or started already; nothing to do", job_id)
        return
    camtrapdp_export.build_job(jobs.select_related("owner").get())


@shared_task(time_limit=EXPORT_TIME_LIMIT, soft_time_limit=EXPORT_TIME_LIMIT - 60)
def import_camtrapdp(job_id: str) -> None:
    """Import a Camtrap DP package uploaded from the browser (camtrapdp_import.py)."""
    from sightings import camtrapdp_import  # here: it ingests, which sends these tasks

    jobs = ImportJob.objects.filter(pk=job_id)
    if not camtrapdp_jobs.claim(jobs, ImportJob.State.VALIDATING):
        logger.warning("Import %s is gone or started already; nothing to do", job_id)
        return
    camtrapdp_import.run_job(jobs.select_related("owner", "team").get())


@shared_task(ignore_result=True)
def tidy_camtrapdp_jobs() -> None:
    """Remove old export and import packages and bring back jobs whose worker was lost
    (camtrapdp_jobs.py); run by Celery beat every minute."""
    camtrapdp_jobs.tidy()
