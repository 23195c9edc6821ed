#!/usr/bin/env python
"""Annotation benchmark: the event page and a save, with 100,000 events in one deployment.

    python bench/annotate.py            (BENCH_EVENTS=100000 by default)

Fills a fresh database (PostgreSQL when DATABASE_URL names one, as in production) with one
deployment of BENCH_EVENTS events of two images each, half of them named, then requests
the annotation page of events spread over the whole run and saves a name on each, through
Django's full request handling in this process. Prints the median and 90th percentile
server time and the number of SQL queries of each (which must not vary between events).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import statistics
import time

import environment

EVENTS = int(os.getenv("BENCH_EVENTS", "100000"))
SAMPLES = 60
CHUNK = 5000


def fill() -> tuple:
    """One team, location and deployment holding EVENTS events; returns (deployment, user)."""
    from django.contrib.auth import get_user_model

    from sightings.models import Deployment, Location, Membership, Team

    team = Team.objects.create(name="Bench", country="RU")
    location = Location.objects.create(
        team=team, name="KP-12", latitude=43.1, longitude=131.5, country="RU"
    )
    deployment = Deployment.objects.create(
        location=location,
        start_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
        time_zone="Asia/Vladivostok",
    )
    user = get_user_model().objects.create_user("bench")
    Membership.objects.create(user=user, team=team, role=Membership.Role.UPLOADER)
    batch = deployment.batches.create(uploaded_by=user)
    for start in range(0, EVENTS, CHUNK):
        _fill_chunk(deployment, batch, range(start, min(start + CHUNK, EVENTS)))
        print(f"\r{min(start + CHUNK, EVENTS)} events", end="", flush=True)
    print()
    return deployment, user


def _fill_chunk(deployment, batch, numbers: range) -> None:
    from sightings.models import Event, Media, Sighting, Species

    named = list(Species.objects.filter(kind="animal"))
    first = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    events = Event.objects.bulk_create(
        Event(deployment=deployment, start_at=first + dt.timedelta(minutes=10 * n),
              end_at=first + dt.timedelta(minutes=10 * n, seconds=5), media_count=2)
        for n in numbers
    )  # fmt: skip
    media = []
    for n, event in zip(numbers, events, strict=True):
        for image in range(2):
            taken = event.start_at + dt.timedelta(seconds=5 * image)
            media.append(Media(
                batch=batch, deployment=deployment, event=event, sha256=f"{n:058d}{image:06d}",
                file=f"originals/{n}-{image}.jpg", original_name=f"RCNX{n:06d}-{image}.JPG",
                file_size=3_000_000, state="processed", camera_time=f"{taken:%Y-%m-%dT%H:%M:%S}",
                captured_at=taken, width=4000, height=3000, preview=f"previews/{n}.jpg",
                thumbnail=f"thumbnails/{n}.jpg", processed_at=taken,
            ))  # fmt: skip
    Media.objects.bulk_create(media)
    Sighting.objects.bulk_create(
        Sighting(
            event=event,
            species=random.choice(named) if n % 2 else None,
            count=1 if n % 2 else None,
            **event.placement(),
        )
        for n, event in zip(numbers, events, strict=True)
    )


def settle() -> None:
    """Statistics and the visibility map, as autovacuum leaves a production database."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def timed(request) -> tuple[float, int]:
    """Server time in ms and SQL queries of one request through Django's full handling."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        response = request()
        elapsed = (time.perf_counter() - start) * 1000
    assert response.status_code in (200, 302), response.status_code
    return elapsed, len(queries)


def main() -> None:
    environment.configure("annotate")
    environment.set_up_django()
    from django.conf import settings
    from django.test import Client

    from sightings.models import Event, Sighting

    print(f"database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}")
    started = time.perf_counter()
    deployment, user = fill()
    settle()
    print(f"filled {EVENTS} events in {time.perf_counter() - started:.0f} s")
    client = Client()
    client.force_login(user)
    ids = list(
        Event.objects.filter(deployment=deployment)
        .order_by("start_at")
        .values_list("pk", flat=True)
    )
    chosen = [ids[int(i * (len(ids) - 1) / (SAMPLES - 1))] for i in range(SAMPLES)]
    for event in chosen[:5]:  # warm up connections, templates and caches
        client.get(f"/events/{event}/")
    pages, saves = [], []
    for event in chosen:
        pages.append(timed(lambda e=event: client.get(f"/events/{e}/")))
        sighting = Sighting.objects.filter(event=event).first()
        data = {"species": "Amur tiger", "count": "1", "version": sighting.version, "then": "next"}
        saves.append(timed(lambda s=sighting, d=data: client.post(f"/sightings/{s.pk}/name/", d)))
    environment.purge_queue()  # the independence tasks the saves queued; no worker runs here
    for label, results in (("page", pages), ("save", saves)):
        times = sorted(ms for ms, _ in results)
        counts = sorted({count for _, count in results})
        median, p90 = statistics.median(times), times[int(len(times) * 0.9)]
        print(f"{label}: median {median:.1f} ms, p90 {p90:.1f} ms, queries {counts}")
    page_queries = pages[0][1] if len({count for _, count in pages}) == 1 else "varies"
    print(
        f"annotate median ms: page {statistics.median(ms for ms, _ in pages):.1f} "
        f"save {statistics.median(ms for ms, _ in saves):.1f} queries {page_queries}"
    )


if __name__ == "__main__":
    main()
