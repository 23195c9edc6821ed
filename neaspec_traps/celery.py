import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "neaspec_traps.settings")

app = Celery("neaspec_traps")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def recycle_database_connections(task, **kwargs) -> None:
    # Celery's Django fixup closes every connection around every task unless
    # CELERY_DB_REUSE_MAX is set (celery#9824); a new PostgreSQL connection per image cost
    # a fifth of its processing (bench/ingest.py). This gives tasks the life cycle Django
    # gives requests instead: a connection lives CONN_MAX_AGE and is dropped when broken.
    # Not for tasks run in-process with apply(), as the fixup itself does: those share the
    # caller's connection (and a test's transaction).
    if getattr(task.request, "is_eager", False):
        return
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        connection.close_if_unusable_or_obsolete()
        # Without the health-check query Django makes before a request's first one
        # (CONN_HEALTH_CHECKS): a round trip per image, and a task whose connection turns
        # out broken is retried anyway (tasks.IDEMPOTENT), on a new one.
        connection.health_check_done = True
