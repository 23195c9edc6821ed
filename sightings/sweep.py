"""The sweep: work whose message was lost is sent again.

A task is sent once, when its work is asked for (tasks.send_on_commit), and a broker may
lose it: a restart without persistence, a purged queue, a send it refused, a worker machine
that died holding it. Every piece of work also stands in the database, with when its task
was sent: a queued image, a pending grouping or independence request. The sweep (a Celery
beat task, twice every SWEEP_INTERVAL_SECONDS, so that lost work waits at most that long)
sends again what has waited longer than it should, half an interval (the grace):

- images queued but never sent (the broker refused), or sent a grace before images that
  workers have since started (the queue hands messages out in the order they were sent,
  so theirs was lost), or sent a grace ago while no worker started any image;
- images a worker started longer ago than the task time limit and never finished;
- grouping and independence requests sent a grace ago and still waiting;
- cross-border e-mails sent a grace ago and still not sent (crossborder.py).

Every task is idempotent, so a task sent twice costs a little work, never a wrong result.
With nothing to do, the sweep is a few index lookups.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable

import kombu.exceptions
from django.conf import settings
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from sightings import tasks
from sightings.models import CrossBorderNotice, Media, PendingGrouping, PendingIndependence

logger = logging.getLogger(__name__)


def send_lost_work(now: dt.datetime | None = None) -> dict[str, int]:
    """Send again what lost its message; return how many of each were sent."""
    now = now or timezone.now()
    grace = dt.timedelta(seconds=settings.SWEEP_INTERVAL_SECONDS / 2)
    waited = Q(sent_at=None) | Q(sent_at__lt=now - grace)
    return {
        "queued media": _send_media(lost_media(now, grace), now),
        "interrupted media": _send_media(interrupted_media(now, grace), now),
        "grouping requests": _send(
            PendingGrouping.objects.filter(waited), now,
            lambda request: _grouping_task(request).delay(request.deployment_id),
        ),
        "independence requests": _send(
            PendingIndependence.objects.filter(waited), now,
            lambda request: tasks.update_independence.delay(
                request.location_id, request.species_id
            ),
        ),
        "cross-border e-mails": _send(
            CrossBorderNotice.objects.filter(waited, mailed_at=None).only("pk"), now,
            lambda notice: tasks.email_cross_border.delay(notice.pk),
        ),
    }  # fmt: skip


def lost_media(now: dt.datetime, grace: dt.timedelta) -> QuerySet[Media]:
    """Queued images whose message is gone: never sent, sent a grace before the latest
    message a worker started on (messages come out in the order they went in), or, if no
    worker started any image for a grace, sent before that."""
    started = Media.objects.filter(started_at__gte=now - grace)
    latest = started.aggregate(latest=Max("sent_at"))["latest"]
    before = latest - grace if latest else now - grace
    return Media.objects.filter(Q(sent_at=None) | Q(sent_at__lt=before), state=Media.State.QUEUED)


def interrupted_media(now: dt.datetime, grace: dt.timedelta) -> QuerySet[Media]:
    """Images a worker started and neither finished nor gave up on: it died with them."""
    limit = dt.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT) + grace
    return Media.objects.filter(state=Media.State.PROCESSING, started_at__lt=now - limit)


def _send_media(media: QuerySet[Media], now: dt.datetime) -> int:
    return _send(media.only("pk"), now, lambda item: tasks.process_media.delay(item.pk))


def _send(rows: QuerySet, now: dt.datetime, send: Callable) -> int:
    """Mark the rows sent now, then send each one's task; if the broker refuses, the rest
    stay marked unsent for the next sweep."""
    rows = list(rows)
    _mark(rows, now)
    for index, row in enumerate(rows):
        try:
            send(row)
        except kombu.exceptions.OperationalError as error:
            logger.warning("The broker is not taking tasks (%s): sent %s of %s", error, index,
                           len(rows))  # fmt: skip
            _mark(rows[index:], None)
            return index
    if rows:
        logger.info("Sent again: %s %s", len(rows), rows[0]._meta.verbose_name_plural)
    return len(rows)


def _mark(rows: Iterable, sent_at: dt.datetime | None) -> None:
    rows = list(rows)
    if rows:
        model = type(rows[0])
        pks = [row.pk for row in rows]
        for start in range(0, len(pks), 1000):
            model.objects.filter(pk__in=pks[start : start + 1000]).update(sent_at=sent_at)


def _grouping_task(request: PendingGrouping):
    return tasks.regroup_deployment if request.everything else tasks.group_new_media
