"""What the pages know of the Celery workers: when one was last heard from.

A worker notes itself when it starts and before its tasks, at most every HEARTBEAT_SECONDS
per process (a busy worker starts a task every few dozen milliseconds; an idle one runs the
sweep every SWEEP_INTERVAL_SECONDS). Pages say so when none has been heard from for
WORKER_SILENT_AFTER_SECONDS, instead of showing "Processing…" for ever.
"""

from __future__ import annotations

import datetime as dt
import time

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from sightings.models import WorkerHeartbeat

HEARTBEAT_SECONDS = 10
_last_noted = {"at": -HEARTBEAT_SECONDS}


def note(hostname: str) -> None:
    """Record that this worker is alive (cheaply: at most once per HEARTBEAT_SECONDS)."""
    if time.monotonic() - _last_noted["at"] < HEARTBEAT_SECONDS:
        return
    _last_noted["at"] = time.monotonic()
    WorkerHeartbeat.objects.update_or_create(
        hostname=hostname[:255], defaults={"seen_at": timezone.now()}
    )


def silent_since() -> dt.datetime | None:
    """When a worker was last heard from, if that was too long ago (or never: the epoch);
    None while workers are heard from."""
    last = WorkerHeartbeat.objects.aggregate(last=Max("seen_at"))["last"]
    silence = dt.timedelta(seconds=settings.WORKER_SILENT_AFTER_SECONDS)
    if last is not None and last > timezone.now() - silence:
        return None
    return last or dt.datetime.fromtimestamp(0, dt.UTC)
